package app

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/guard"
)

// damagePage overwrites the first page of table in the history database of
// h's state directory, as a damaged disk does: SQLite then answers every
// write to that table with "database disk image is malformed".
func damagePage(t *testing.T, h *harness, table string) {
	t.Helper()
	path := filepath.Join(h.env["OPS_SKILL_STATE_DIR"], "history.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var page, size int64
	err = db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&page)
	if err == nil {
		err = db.QueryRow(`PRAGMA page_size`).Scan(&size)
	}
	if err == nil {
		_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("find the page of %s: %v", table, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xff", int(size))), (page-1)*size); err != nil {
		t.Fatal(err)
	}
}

func TestADamagedHistoryNeverEndsInSuccess(t *testing.T) {
	cases := []struct {
		name, table string
		want        []string // transcript lines
	}{
		{"the write's intent cannot be recorded: the scale is refused", "tool_calls",
			[]string{"Refused scaleDeployment ai-data-labs/backend — " + guard.RuleAuditUnrecorded,
				"History not recorded: record scaleDeployment ai-data-labs/backend", "Outcome: failed", "Error: history incomplete"}},
		{"the scale event after the write cannot be recorded", "scale_events",
			[]string{"Done: scale ai-data-labs/backend from 3 to 4 replicas",
				"History not recorded: record the state of ai-data-labs/backend after scaleDeployment", "Outcome: failed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if code := h.run("--alert-history"); code != cli.ExitOK {
				t.Fatalf("--alert-history exit %d: %s", code, h.errOut.String())
			}
			damagePage(t, h, c.table)
			code := h.run(highCPUAlert)
			if code != cli.ExitFailed {
				t.Errorf("exit %d, want %d", code, cli.ExitFailed)
			}
			for _, w := range c.want {
				if !strings.Contains(h.out.String(), w) {
					t.Errorf("transcript lacks %q:\n%s", w, h.out.String())
				}
			}
			if !strings.Contains(h.out.String(), "malformed") {
				t.Errorf("transcript does not name the store's error:\n%s", h.out.String())
			}
			code = h.run("--output", "json", highCPUAlert)
			lines := strings.Split(strings.TrimSpace(h.out.String()), "\n")
			var sum struct {
				Type        string   `json:"type"`
				Resolution  string   `json:"resolution"`
				AuditErrors []string `json:"auditErrors"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
				t.Fatal(err)
			}
			if code != cli.ExitFailed || sum.Type != "summary" || sum.Resolution != "failed" || len(sum.AuditErrors) == 0 {
				t.Errorf("json: exit %d, summary %+v", code, sum)
			}
		})
	}
}

func TestAToolCallTheHistoryCannotRecordExits1(t *testing.T) {
	h := newHarness(t)
	if code := h.run("--alert-history"); code != cli.ExitOK {
		t.Fatalf("--alert-history exit %d: %s", code, h.errOut.String())
	}
	damagePage(t, h, "tool_calls")
	code := h.run("--simulate", "tools", "call", "getServiceStatus", "--args", `{"namespace":"ai-data-labs","name":"backend"}`)
	if code != cli.ExitFailed || !strings.Contains(h.errOut.String(), "history is incomplete") {
		t.Errorf("exit %d, stderr %q: want %d and the incomplete history", code, h.errOut.String(), cli.ExitFailed)
	}
}
