package platform

import "testing"

func TestWhereNamesThePlatform(t *testing.T) {
	cases := []struct {
		name string
		w    Where
		str  string
		env  string
	}{
		{"simulated", Where{Kind: WhereSimulated, Scenario: "high-cpu", Namespace: "ai-data-labs"}, "SIMULATED (scenario high-cpu), namespace ai-data-labs", "simulated"},
		{"zero value is simulated", Where{}, "SIMULATED", "simulated"},
		{"cluster and context differ", Where{Kind: WhereCluster, Cluster: "prod", Context: "prod-admin", Namespace: "shop"}, "cluster prod (context prod-admin), namespace shop", "prod-admin"},
		{"cluster named like its context", Where{Kind: WhereCluster, Cluster: "kind", Context: "kind", Namespace: "default"}, "cluster kind, namespace default", "kind"},
		{"in cluster", Where{Kind: WhereCluster, Cluster: "in-cluster", Namespace: "ops"}, "cluster in-cluster, namespace ops", "in-cluster"},
		{"in cluster, named", Where{Kind: WhereCluster, Cluster: "prod-eu", Namespace: "ops"}, "cluster prod-eu, namespace ops", "prod-eu"},
		{"in cluster, no name", Where{Kind: WhereCluster, Namespace: "ops"}, "cluster -, namespace ops", "in-cluster"},
	}
	if got := (Where{Kind: WhereCluster, Cluster: "prod", Context: "prod-admin", Namespace: "shop"}).On(); got != " on cluster prod (context prod-admin)" {
		t.Errorf("On() = %q", got)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.w.String(); got != c.str {
				t.Errorf("String() = %q, want %q", got, c.str)
			}
			if got := c.w.Env(); got != c.env {
				t.Errorf("Env() = %q, want %q", got, c.env)
			}
			if on := c.w.On(); (on == "") != c.w.Simulated() || (on != "" && on != " on "+c.w.Place()) {
				t.Errorf("On() = %q for %s", on, c.str)
			}
		})
	}
}
