package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/store"
)

// clusterFlag narrows the history listings (--alert-history, --scale-history,
// incidents) to the records of one cluster. Without it they list every
// cluster in the store, each row naming its own (the ENV and WHERE columns,
// "env" in JSON): the history commands never contact a cluster, so there is
// no current one to default to.
const clusterFlag = "cluster"

const clusterUsage = "with a history listing: only the records of this cluster (its kubeconfig context, in-cluster or simulated; default: every cluster in the store)"

// checkCluster refuses --cluster where it filters nothing (listing false):
// with an alert it would read as "act on that cluster", which --context does.
func (o *rootOptions) checkCluster(cmd *cobra.Command, listing bool) error {
	fl := cmd.Flags().Lookup(clusterFlag)
	if fl == nil || !fl.Changed {
		return nil
	}
	if !listing {
		return usageError("--%s filters --alert-history, --scale-history and incidents; to act on a cluster choose its kubeconfig context with --context", clusterFlag)
	}
	if strings.TrimSpace(o.cluster) == "" {
		return usageError("--%s needs a cluster name: its kubeconfig context, in-cluster or %s", clusterFlag, store.EnvSimulated)
	}
	return nil
}

// clusterTable prints a listing's rows; an empty listing of one cluster
// names the clusters the store has records of.
func (o *rootOptions) clusterTable(cmd *cobra.Command, st *store.Store, rows [][]string) error {
	if len(rows) == 1 {
		o.noClusterEntries(cmd, st)
	}
	return o.table(rows)
}

// noClusterEntries says, on stderr, which clusters have records when --cluster
// selected none; nothing without --cluster.
func (o *rootOptions) noClusterEntries(cmd *cobra.Command, st *store.Store) {
	if o.cluster == "" {
		return
	}
	known, err := st.Clusters(cmd.Context())
	switch {
	case err != nil:
		return // the listing itself succeeded; the hint is only a hint
	case len(known) == 0:
		fmt.Fprintf(o.f.IO.ErrOut, "no records of cluster %s: the store has none of any cluster\n", o.cluster)
	case !slices.Contains(known, o.cluster):
		fmt.Fprintf(o.f.IO.ErrOut, "no records of cluster %s; the store has records of: %s\n", o.cluster, strings.Join(known, ", "))
	}
}
