package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestStoreAcceptsAPathAPostgresURLOrNothing(t *testing.T) {
	for _, store := range []string{"", "/var/lib/ops/history.db", "history.db",
		"postgres://ops@db:5432/ops?sslmode=require", "postgresql://ops:pw@db/ops"} {
		t.Run(store, func(t *testing.T) {
			if _, err := loadWith(t, homeEnv(t, map[string]string{"OPS_SKILL_STORE_URL": store}), ""); err != nil {
				t.Fatalf("store %q: %v", store, err)
			}
		})
	}
}

func TestStoreRefusesOtherURLsNamingTheKeyAndVariable(t *testing.T) {
	for _, store := range []string{"mysql://ops:pw@db/ops", "postgres:///ops", "sqlite://x.db"} {
		t.Run(store, func(t *testing.T) {
			_, err := loadWith(t, homeEnv(t, map[string]string{"OPS_SKILL_STORE_URL": store}), "")
			ve := requireKeyError(t, err, "store", "OPS_SKILL_STORE_URL")
			if strings.Contains(ve.Error(), "pw") {
				t.Errorf("the error shows the password: %v", ve)
			}
		})
	}
}

func TestStorePasswordIsNeverDisplayed(t *testing.T) {
	const password = "s3cr3t-pg-pass"
	cfg := mustLoad(t, homeEnv(t, map[string]string{"OPS_SKILL_STORE_URL": "postgres://ops:" + password + "@db:5432/ops"}), "")
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"json": string(js), "fmt": fmt.Sprint(cfg), "redacted": fmt.Sprint(cfg.Redacted())} {
		if strings.Contains(out, password) {
			t.Errorf("%s shows the password: %s", name, out)
		}
		if !strings.Contains(out, "db:5432") {
			t.Errorf("%s lost the store's host: %s", name, out)
		}
	}
}
