package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseAssignment(t *testing.T) {
	tests := []struct {
		in, key, value string
	}{
		{"scale_up.cpu=85", "auto_scaling.scale_up_threshold", "85"},
		{"scale_up.duration=10m", "auto_scaling.scale_up_duration", "10m"},
		{"scale_up.step=2", "auto_scaling.scale_up_step", "2"},
		{"scale_down.cpu=25", "auto_scaling.scale_down_threshold", "25"},
		{"scale_down.duration=20m", "auto_scaling.scale_down_duration", "20m"},
		{"scale_down.step=1", "auto_scaling.scale_down_step", "1"},
		{"scale_out.error_rate=5", "auto_scaling.error_rate_threshold", "5"},
		{"scale_out.duration=1m", "auto_scaling.error_rate_duration", "1m"},
		{"scale_out.step=3", "auto_scaling.error_rate_step", "3"},
		{"min_replicas=3", "auto_scaling.min_replicas", "3"},
		{"max_replicas=12", "auto_scaling.max_replicas", "12"},
		{"alerting.cooldown=15m", "alerting.cooldown", "15m"},
		{"alerting.escalation_hours=2", "alerting.escalation_hours", "2"},
		{"self_healing.restart_threshold=4", "self_healing.restart_threshold", "4"},
		{"self_healing.replacement_threshold=6", "self_healing.replacement_threshold", "6"},
		{"storage.retention_days=30", "storage.retention_days", "30"},
		{"auto_scaling.scale_up_threshold=85", "auto_scaling.scale_up_threshold", "85"},
		{"operations.auto_scaling.max_replicas=12", "auto_scaling.max_replicas", "12"},
		{"  Scale_Up.CPU = 85% ", "auto_scaling.scale_up_threshold", "85%"},
		{"x=a=b", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			key, value, err := ParseAssignment(tt.in)
			if tt.key == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || key != tt.key || value != tt.value {
				t.Errorf("ParseAssignment(%q) = %q, %q, %v; want %q, %q", tt.in, key, value, err, tt.key, tt.value)
			}
		})
	}
	for _, k := range OverridableKeys() {
		if _, _, err := ParseAssignment(k + "=1"); err != nil {
			t.Errorf("listed key %s is rejected: %v", k, err)
		}
	}
}

func TestParseAssignmentRejections(t *testing.T) {
	tests := []struct{ name, in, wantInMsg string }{
		{"no equals sign", "scale_up.cpu", "key=value"},
		{"empty value", "scale_up.cpu=", "key=value"},
		{"empty key", "=85", "key=value"},
		{"unknown key lists the valid ones", "scale_up.memory=85", "scale_up.cpu"},
		{"a key that is not a threshold", "llm.api_key=x", "is not a threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseAssignment(tt.in)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("err = %v, want ErrInvalid mentioning %q", err, tt.wantInMsg)
			}
		})
	}
}

func TestApplyUpdatesAccepts(t *testing.T) {
	cfg := validConfig(t)
	next, changes, err := ApplyUpdates(cfg, []string{"scale_up.cpu=85", "alerting.cooldown=15m", "max_replicas=10"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Key: "auto_scaling.scale_up_threshold", Old: "80", New: "85"},
		{Key: "alerting.cooldown", Old: "5m", New: "15m"},
		{Key: "auto_scaling.max_replicas", Old: "10", New: "10"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes = %+v\nwant %+v", changes, want)
	}
	if next.AutoScaling.ScaleUpThreshold != 85 || next.Alerting.Cooldown != 15*time.Minute {
		t.Errorf("new config not applied: %v", next)
	}
	if cfg.AutoScaling.ScaleUpThreshold != 80 || cfg.Alerting.Cooldown != 5*time.Minute {
		t.Error("the input config was modified")
	}
}

func TestApplyUpdatesValidatesTheCombination(t *testing.T) {
	// Each alone would be rejected (down 85 >= up 80); together they are valid.
	next, _, err := ApplyUpdates(validConfig(t), []string{"scale_up.cpu=90", "scale_down.cpu=85"})
	if err != nil || next.AutoScaling.ScaleDownThreshold != 85 {
		t.Fatalf("ApplyUpdates = %v, %v", next.AutoScaling, err)
	}
}

func TestApplyUpdatesRejectsAndChangesNothing(t *testing.T) {
	tests := []struct {
		name        string
		assignments []string
		key         string
	}{
		{"scale-down at or above scale-up", []string{"scale_down.cpu=85"}, "auto_scaling.scale_down_threshold"},
		{"max below min", []string{"max_replicas=1"}, "auto_scaling.max_replicas"},
		{"min above max", []string{"min_replicas=11"}, "auto_scaling.max_replicas"},
		{"replacement below restart", []string{"self_healing.restart_threshold=6"}, "self_healing.replacement_threshold"},
		{"threshold above 100", []string{"scale_up.cpu=150"}, "auto_scaling.scale_up_threshold"},
		{"duration without unit", []string{"scale_up.duration=5"}, "auto_scaling.scale_up_duration"},
		{"negative cooldown", []string{"alerting.cooldown=-1m"}, "alerting.cooldown"},
		{"zero escalation", []string{"alerting.escalation_hours=0"}, "alerting.escalation_hours"},
		{"not a number", []string{"storage.retention_days=ninety"}, "storage.retention_days"},
		{"zero retention", []string{"storage.retention_days=0"}, "storage.retention_days"},
		{"unknown key", []string{"scale_up.memory=1"}, "scale_up.memory"},
		{"a key given twice", []string{"scale_up.cpu=85", "auto_scaling.scale_up_threshold=90"}, "auto_scaling.scale_up_threshold"},
		{"one bad among good", []string{"alerting.cooldown=15m", "max_replicas=0"}, "auto_scaling.max_replicas"},
		{"a window of 1ns", []string{"scale_up.duration=1ns"}, "auto_scaling.scale_up_duration"},
		{"a window under the sample step", []string{"scale_up.duration=10s"}, "auto_scaling.scale_up_duration"},
		{"a scale-down window under the sample step", []string{"scale_down.duration=14s"}, "auto_scaling.scale_down_duration"},
		{"a scale-out window under the sample step", []string{"scale_out.duration=1s"}, "auto_scaling.error_rate_duration"},
		{"a step above max replicas", []string{"scale_out.step=11"}, "auto_scaling.error_rate_step"},
		{"max replicas below a step", []string{"min_replicas=1", "max_replicas=1"}, "auto_scaling.error_rate_step"},
		{"replacement equal to restart", []string{"self_healing.replacement_threshold=3"}, "self_healing.replacement_threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig(t)
			next, changes, err := ApplyUpdates(cfg, tt.assignments)
			requireKeyError(t, err, tt.key, lookupEnv(tt.key))
			if changes != nil || !reflect.DeepEqual(next, cfg) {
				t.Errorf("rejected update changed something: %+v, %v", changes, next)
			}
		})
	}
}

func TestUpdatePersistsAndReloads(t *testing.T) {
	env := homeEnv(t, nil)
	cfg := mustLoad(t, env, "")
	next, changes, err := ApplyUpdates(cfg, []string{"scale_up.cpu=85", "alerting.cooldown=15m"})
	must(t, err)
	must(t, SaveOverrides(next.StateDir, changes))

	reloaded := mustLoad(t, env, "")
	if !reflect.DeepEqual(values(reloaded), values(next)) {
		t.Errorf("reloaded config differs from the updated one:\n%v\n%v", reloaded, next)
	}

	// A second update merges with the first.
	_, changes, err = ApplyUpdates(reloaded, []string{"max_replicas=12"})
	must(t, err)
	must(t, SaveOverrides(reloaded.StateDir, changes))
	again := mustLoad(t, env, "")
	if again.AutoScaling.MaxReplicas != 12 || again.AutoScaling.ScaleUpThreshold != 85 || again.Alerting.Cooldown != 15*time.Minute {
		t.Errorf("merged overrides lost a value: %v", again)
	}

	path := OverridesFile(cfg.StateDir)
	info, err := os.Stat(path)
	must(t, err)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
	entries, err := os.ReadDir(cfg.StateDir)
	must(t, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestSaveOverridesRejectsBadChanges(t *testing.T) {
	tests := []struct {
		name    string
		changes []Change
	}{
		{"a key that is not a threshold", []Change{{Key: "llm.api_key", New: "x"}}},
		{"an unknown key", []Change{{Key: "nope", New: "1"}}},
		{"a value that does not parse", []Change{{Key: "alerting.cooldown", New: "soon"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := SaveOverrides(dir, tt.changes); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if _, err := os.Stat(OverridesFile(dir)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("file written despite the error: %v", err)
			}
		})
	}
	if err := SaveOverrides("", []Change{{Key: "alerting.cooldown", New: "1m"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty state dir: err = %v", err)
	}
}

func TestLoadRejectsABadOverridesFile(t *testing.T) {
	tests := []struct{ name, body, key string }{
		{"a key that may not be overridden", "operations:\n  llm:\n    api_key: x\n", "llm.api_key"},
		{"a value that does not parse", "operations:\n  alerting:\n    cooldown: soon\n", "alerting.cooldown"},
		{"an unknown key", "operations:\n  alerting:\n    cooldwn: 1m\n", "alerting.cooldwn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := t.TempDir()
			path := writeFile(t, state, OverridesFileName, tt.body)
			_, err := loadWith(t, homeEnv(t, map[string]string{"OPS_SKILL_STATE_DIR": state}), "")
			ve := requireKeyError(t, err, tt.key, lookupEnv(tt.key))
			if !strings.Contains(ve.Source, path) {
				t.Errorf("source %q does not name %s", ve.Source, path)
			}
		})
	}
}

func TestEnvShadowsReportsOverridesMaskedByEnvironment(t *testing.T) {
	env := homeEnv(t, map[string]string{"SCALE_UP_THRESHOLD": "90", "ALERT_COOLDOWN": ""})
	cfg := mustLoad(t, env, "")
	_, changes, err := ApplyUpdates(cfg, []string{"scale_up.cpu=85", "alerting.cooldown=15m", "scale_up.duration=10m"})
	must(t, err)
	must(t, SaveOverrides(cfg.StateDir, changes))

	got := EnvShadows(envOf(env), changes)
	want := []Shadow{{Key: "auto_scaling.scale_up_threshold", EnvVar: "SCALE_UP_THRESHOLD"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EnvShadows = %+v, want %+v", got, want)
	}
	// The shadow is real: the environment still wins after the save.
	if reloaded := mustLoad(t, env, ""); reloaded.AutoScaling.ScaleUpThreshold != 90 || reloaded.Alerting.Cooldown != 15*time.Minute {
		t.Errorf("reloaded = %v", reloaded)
	}
}

func TestConcurrentSavesKeepEveryUpdate(t *testing.T) {
	dir := t.TempDir()
	updates := []Change{
		{Key: "auto_scaling.scale_up_duration", New: "6m"},
		{Key: "auto_scaling.scale_down_duration", New: "16m"},
		{Key: "auto_scaling.error_rate_duration", New: "3m"},
		{Key: "alerting.cooldown", New: "7m"},
		{Key: "storage.retention_days", New: "60"},
		{Key: "alerting.escalation_hours", New: "2"},
	}
	var wg sync.WaitGroup
	for _, c := range updates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := SaveOverrides(dir, []Change{c}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	values, err := readOverrideValues(dir)
	must(t, err)
	for _, c := range updates {
		if values[c.Key] != c.New {
			t.Errorf("%s = %q, want %q (all: %v)", c.Key, values[c.Key], c.New, values)
		}
	}
}

func TestOverridesFileIsReadableYAML(t *testing.T) {
	dir := t.TempDir()
	must(t, SaveOverrides(dir, []Change{{Key: "auto_scaling.scale_up_threshold", New: "85"}, {Key: "alerting.cooldown", New: "15m"}}))
	data, err := os.ReadFile(filepath.Join(dir, OverridesFileName))
	must(t, err)
	want := "operations:\n  auto_scaling:\n    scale_up_threshold: 85\n  alerting:\n    cooldown: 15m\n"
	if !strings.HasPrefix(string(data), "# Written by ops-skill --update-threshold") || !strings.HasSuffix(string(data), want) {
		t.Errorf("file:\n%s\nwant suffix:\n%s", data, want)
	}
}

func TestTheLoaderRefusesWhatAnUpdateRefuses(t *testing.T) {
	tests := []struct{ key, value string }{
		{"auto_scaling.scale_up_duration", "1ns"},
		{"auto_scaling.scale_up_duration", "10s"},
		{"auto_scaling.error_rate_step", "11"},
		{"self_healing.replacement_threshold", "3"},
		{"storage.max_partitions_per_run", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			if f, _ := lookupField(tt.key); f.override {
				if _, _, err := ApplyUpdates(validConfig(t), []string{tt.key + "=" + tt.value}); !errors.Is(err, ErrInvalid) {
					t.Errorf("ApplyUpdates = %v, want it refused", err)
				}
			}
			section, name, _ := strings.Cut(tt.key, ".")
			_, err := loadWith(t, homeEnv(t, nil), "operations:\n  "+section+":\n    "+name+": "+tt.value+"\n")
			ve := requireKeyError(t, err, tt.key, lookupEnv(tt.key))
			if !strings.Contains(ve.Source, "config file") {
				t.Errorf("source %q, want the config file", ve.Source)
			}
		})
	}
}

func TestARefusedUpdateNamesKeyValueRuleAndExample(t *testing.T) {
	_, _, err := ApplyUpdates(validConfig(t), []string{"scale_up.duration=10s"})
	ve := requireKeyError(t, err, "auto_scaling.scale_up_duration", "")
	for _, want := range []string{"auto_scaling.scale_up_duration", "= 10s", "at least the metrics sample step (15s)", "from --update-threshold", "e.g. 5m"} {
		if !strings.Contains(ve.Error(), want) {
			t.Errorf("%q does not say %q", ve.Error(), want)
		}
	}
}
