package kube_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

const projectRoot = "../.."

// manifest decodes every object of one deploy/ file, in order.
func manifest(t testing.TB, file string) []runtime.Object {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(projectRoot, "deploy", file))
	if err != nil {
		t.Fatal(err)
	}
	var out []runtime.Object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("deploy/%s: %v", file, err)
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("deploy/%s: %v", file, err)
		}
		out = append(out, obj)
	}
}

// kustomizationResources lists the files deploy/kustomization.yaml applies.
func kustomizationResources(t testing.TB) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(projectRoot, "deploy", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	return k.Resources
}
