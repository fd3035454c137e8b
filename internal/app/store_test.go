package app

import (
	"path/filepath"
	"testing"

	"github.com/duet-company/ops-skill/internal/config"
)

func TestStoreLocationIsTheConfiguredStoreOrTheStateDirFile(t *testing.T) {
	for _, tt := range []struct {
		name, store, want string
	}{
		{"empty: the state dir's SQLite file", "", filepath.Join("/state", "history.db")},
		{"a path: that SQLite file", "/data/h.db", "/data/h.db"},
		{"a URL: that PostgreSQL database", "postgres://ops@db/ops", "postgres://ops@db/ops"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := storeLocation(config.Config{StateDir: "/state", Store: tt.store}); got != tt.want {
				t.Errorf("storeLocation = %q, want %q", got, tt.want)
			}
		})
	}
}
