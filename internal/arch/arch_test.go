// Package arch holds the test that keeps the tree's architecture: who may
// import whom (shared/style.md, "Who may import whom").
package arch

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/recoverctl/recoverctl"

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the rule check would prove nothing", len(pkgs))
	}
	return pkgs
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

func under(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

// forbidden says why from may not import to, or "" when it may.
func forbidden(from, to string) string {
	switch {
	case under(to, "cmd"):
		return "nothing imports a command"
	case under(from, "codec") && !under(to, "codec"):
		return "codec knows bytes only: it imports none of the project's other packages"
	case under(from, "store/zk") && under(to, "store/fs"), under(from, "store/fs") && under(to, "store/zk"):
		return "the stores never import each other"
	case under(from, "store") && !under(to, "store"):
		return "store knows where bytes live, nothing above it"
	case (under(from, "migrate") || under(from, "backup")) && (under(to, "store/zk") || under(to, "store/fs")):
		return "migrate and backup are handed a store; they never pick a concrete one"
	case (under(from, "migrate") || under(from, "backup")) && under(to, "sparkconf"):
		return "configuration flows in as values"
	}
	return ""
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		from := rel(p.ImportPath)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if why := forbidden(from, rel(imp)); why != "" {
				t.Errorf("%s imports %s: %s", from, rel(imp), why)
			}
		}
	}
}

func TestRulesCanFail(t *testing.T) {
	for _, c := range []struct{ from, to string }{
		{"codec", "store"},
		{"codec/javaser", "inventory"},
		{"store/zk", "store/fs"},
		{"migrate", "store/zk"},
		{"backup", "cmd/recoverctl"},
		{"store", "codec"},
	} {
		if forbidden(c.from, c.to) == "" {
			t.Errorf("%s -> %s should be forbidden", c.from, c.to)
		}
	}
	for _, c := range []struct{ from, to string }{
		{"codec/classes", "codec/javaser"},
		{"migrate", "store"},
		{"backup", "codec"},
		{"cmd/recoverctl", "store/zk"},
		{"store/zk", "store"},
	} {
		if why := forbidden(c.from, c.to); why != "" {
			t.Errorf("%s -> %s should be allowed, got %q", c.from, c.to, why)
		}
	}
}
