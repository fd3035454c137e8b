package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// pagerDutyDedupMax is the Events API's limit on dedup_key.
const pagerDutyDedupMax = 255

// DedupScope is where an incident ID is unique: the history store that
// counted it (store.Store.Identity, a UUID per database) and the cluster the
// incident concerns. Incident IDs (INC-YYYY-MM-DD-NNN) come from a counter in
// each store, so two replicas with stores of their own, or two clusters, give
// the same ID to different problems; the scope in the dedup key keeps their
// pages apart. The zero scope gives the bare incident ID (a single store and
// cluster, as in tests).
type DedupScope struct {
	// Store is the identity of the history store.
	Store string
	// Cluster names the cluster (the store's env: the kubeconfig context, or
	// "simulated").
	Cluster string
}

// IsZero reports whether s names neither store nor cluster.
func (s DedupScope) IsZero() bool { return s.Store == "" && s.Cluster == "" }

// Key is the dedup key of id (an incident ID, or "ops-skill:<target>" when
// there is no incident) within s: "ops-skill:<store>:<cluster>:<id>". A
// cluster name that would make the key longer than the API allows is
// replaced by its hash, so the key stays unique and stable.
func (s DedupScope) Key(id string) string {
	if s.IsZero() {
		return id
	}
	id = strings.TrimPrefix(id, "ops-skill:")
	key := s.join(s.Cluster, id)
	if len(key) > pagerDutyDedupMax {
		sum := sha256.Sum256([]byte(s.Cluster))
		key = s.join("sha256-"+hex.EncodeToString(sum[:8]), id)
	}
	return key
}

func (s DedupScope) join(cluster, id string) string {
	return "ops-skill:" + s.Store + ":" + cluster + ":" + id
}
