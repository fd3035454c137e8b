package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/duet-company/ops-skill/internal/platform"
)

// identRe is a plain identifier: letters, digits and _, not starting with a digit.
var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// partitionIDRe is a partition ID as ClickHouse builds them (digits, a hash,
// "all", or such joined with -).
var partitionIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// InvalidNameError is a database, table or partition ID the adapter will not
// put in a statement.
type InvalidNameError struct {
	Field string
	Value string
}

func (e *InvalidNameError) Error() string {
	return fmt.Sprintf("clickhouse: invalid %s %q: only letters, digits and _ are allowed", e.Field, oneLine(e.Value, 60))
}

// checkName validates one name against re.
func checkName(field, v string, re *regexp.Regexp) error {
	if !re.MatchString(v) {
		return &InvalidNameError{Field: field, Value: v}
	}
	return nil
}

// quoteIdent quotes a validated identifier.
func quoteIdent(s string) string { return "`" + s + "`" }

// partsQuery lists active parts grouped per partition. min_time/max_time are
// set when the partition key has a DateTime column, min_date/max_date when it
// has a Date column.
const partsQuery = `SELECT database, table, partition, partition_id,
  sum(rows), sum(bytes_on_disk),
  min(min_time), max(max_time), min(min_date), max(max_date)
FROM system.parts
WHERE active%s
GROUP BY database, table, partition, partition_id
ORDER BY database, table, partition_id`

// Partitions lists the partitions of the matching tables, aggregated over
// their active parts.
func (s *Storage) Partitions(ctx context.Context, f platform.PartitionFilter) ([]platform.Partition, error) {
	var where []string
	var args []any
	if f.Database != "" {
		if err := checkName("database", f.Database, identRe); err != nil {
			return nil, err
		}
		where, args = append(where, "database = ?"), append(args, f.Database)
	}
	if f.Table != "" {
		if err := checkName("table", f.Table, identRe); err != nil {
			return nil, err
		}
		where, args = append(where, "table = ?"), append(args, f.Table)
	}
	cond := ""
	if len(where) > 0 {
		cond = " AND " + strings.Join(where, " AND ")
	}
	var out []platform.Partition
	err := s.query(ctx, "list partitions", fmt.Sprintf(partsQuery, cond), func(r driver.Rows) error {
		var p partRow
		if err := r.Scan(&p.db, &p.table, &p.part, &p.id, &p.rows, &p.bytes, &p.minTime, &p.maxTime, &p.minDate, &p.maxDate); err != nil {
			return err
		}
		out = append(out, p.toPartition())
		return nil
	}, args...)
	return out, err
}

// partRow is one row of partsQuery.
type partRow struct {
	db, table, part, id string
	rows, bytes         uint64
	minTime, maxTime    time.Time
	minDate, maxDate    time.Time
}

// toPartition converts the row. A Date-keyed partition's newest row may be
// anywhere in its last day, so MaxTime is the end of that day.
func (p partRow) toPartition() platform.Partition {
	out := platform.Partition{Database: p.db, Table: p.table, Partition: p.part, PartitionID: p.id, Rows: p.rows, Bytes: p.bytes}
	switch {
	case known(p.maxTime):
		out.MinTime, out.MaxTime = p.minTime.UTC(), p.maxTime.UTC()
	case known(p.maxDate):
		out.MinTime = dateUTC(p.minDate)
		out.MaxTime = dateUTC(p.maxDate).Add(24*time.Hour - time.Second)
	}
	return out
}

// known reports whether a min/max column holds a value (the server writes
// the epoch when the partition key has no column of that type).
func known(t time.Time) bool { return !t.IsZero() && t.Unix() > 0 }

// dateUTC takes the calendar date of a Date value as a UTC midnight.
func dateUTC(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DropPartition drops one partition by ID. The table and the partition must
// exist (ClickHouse silently ignores an unknown partition ID; the adapter
// reports platform.ErrNotFound instead); a partition over the server's
// max_partition_size_to_drop fails with platform.ErrSizeLimit. Two round
// trips: the existence check and the ALTER.
func (s *Storage) DropPartition(ctx context.Context, database, table, partitionID string) error {
	for _, c := range []struct{ field, v string }{{"database", database}, {"table", table}} {
		if err := checkName(c.field, c.v, identRe); err != nil {
			return err
		}
	}
	if err := checkName("partition id", partitionID, partitionIDRe); err != nil {
		return err
	}
	op := fmt.Sprintf("drop partition %s.%s %s", database, table, partitionID)
	if err := s.checkPartition(ctx, op, database, table, partitionID); err != nil {
		return err
	}
	stmt := fmt.Sprintf("ALTER TABLE %s.%s DROP PARTITION ID '%s'", quoteIdent(database), quoteIdent(table), partitionID)
	return s.exec(ctx, op, stmt)
}

// checkPartition fails with platform.ErrNotFound unless the table exists and
// has active parts in the partition.
func (s *Storage) checkPartition(ctx context.Context, op, database, table, id string) error {
	const q = `SELECT
  (SELECT count() FROM system.tables WHERE database = ? AND name = ?),
  (SELECT count() FROM system.parts WHERE active AND database = ? AND table = ? AND partition_id = ?)`
	var tables, parts uint64
	err := s.query(ctx, op, q, func(r driver.Rows) error { return r.Scan(&tables, &parts) },
		database, table, database, table, id)
	switch {
	case err != nil:
		return err
	case tables == 0:
		return &Error{Op: op, Kind: platform.ErrNotFound, Message: fmt.Sprintf("table %s.%s does not exist", database, table)}
	case parts == 0:
		return &Error{Op: op, Kind: platform.ErrNotFound, Message: fmt.Sprintf("table %s.%s has no active partition with ID %q", database, table, id)}
	}
	return nil
}
