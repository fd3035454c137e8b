package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Disks lists the server's disks from system.disks with their capacity and
// free space. Servers without system.disks (before 19.15) give
// platform.ErrUnsupported.
func (s *Storage) Disks(ctx context.Context) ([]platform.Disk, error) {
	var out []platform.Disk
	err := s.query(ctx, "list disks", "SELECT name, path, total_space, free_space FROM system.disks ORDER BY name",
		func(r driver.Rows) error {
			var d platform.Disk
			if err := r.Scan(&d.Name, &d.Path, &d.TotalBytes, &d.FreeBytes); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	if isCode(err, CodeUnknownTable) {
		return nil, fmt.Errorf("clickhouse list disks: server has no system.disks: %w", platform.ErrUnsupported)
	}
	return out, err
}

// MaxPartitionSizeToDrop returns the limit in bytes that applies to a drop
// from this connection (0: no limit): the session's max_partition_size_to_drop
// when it was changed for this user or connection, else the server setting
// from system.server_settings. A server that cannot report it uses
// Config.FallbackMaxPartitionSizeToDrop, or fails with platform.ErrUnsupported
// when none is configured. One or two round trips.
func (s *Storage) MaxPartitionSizeToDrop(ctx context.Context) (uint64, error) {
	const name = "max_partition_size_to_drop"
	v, changed, found, err := s.setting(ctx, "SELECT value, changed FROM system.settings WHERE name = ?", name)
	if err != nil {
		return 0, err
	}
	if found && changed {
		return parseSize(v)
	}
	v, _, found, err = s.setting(ctx, "SELECT value, changed FROM system.server_settings WHERE name = ?", name)
	switch {
	case err != nil && !isCode(err, CodeUnknownTable):
		return 0, err
	case found:
		return parseSize(v)
	case s.fallback > 0:
		return s.fallback, nil
	}
	return 0, fmt.Errorf("clickhouse: the server does not report %s and no fallback is configured: %w", name, platform.ErrUnsupported)
}

// setting reads one row (value, changed) of a settings table.
func (s *Storage) setting(ctx context.Context, q, name string) (value string, changed, found bool, err error) {
	err = s.query(ctx, "read "+name, q, func(r driver.Rows) error {
		var c uint8
		found = true
		if err := r.Scan(&value, &c); err != nil {
			return err
		}
		changed = c != 0
		return nil
	}, name)
	return value, changed, found, err
}

// parseSize parses a size setting value.
func parseSize(v string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("clickhouse: max_partition_size_to_drop %q is not a byte count: %w", v, err)
	}
	return n, nil
}

// isCode reports whether err carries the server exception code.
func isCode(err error, code int32) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
