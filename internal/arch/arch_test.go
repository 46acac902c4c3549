// Package arch holds the test that keeps the tree's architecture: who may
// import whom, the project's packages and third-party ones alike
// (shared/style.md, "Who may import whom").
package arch

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/recoverctl/recoverctl"

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
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
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; the rule check would prove nothing", len(pkgs))
	}
	return pkgs
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

func under(path string, dirs ...string) bool {
	for _, dir := range dirs {
		if path == dir || strings.HasPrefix(path, dir+"/") {
			return true
		}
	}
	return false
}

// concreteStores are the store implementations; only commands, tests and
// benchmarks pick one.
var concreteStores = []string{"store/fs", "store/zk", "store/rocksdb"}

// features are the packages that do recoverctl's work, written against
// the store interface.
var features = []string{"plan", "migrate", "backup", "prune", "audit", "diff", "inventory", "livemaster", "sparkconf", "regularfile"}

// forbidden says why from may not import to (a path inside the module),
// or "" when it may.
func forbidden(from, to string) string {
	switch {
	case under(to, "cmd"):
		return "nothing imports a command"
	case under(from, "codec") && !under(to, "codec"):
		return "codec knows bytes only: it imports none of the project's other packages"
	case under(from, concreteStores...) && under(to, concreteStores...) && !under(to, from):
		return "the stores never import each other"
	case under(from, "store") && !under(to, "store"):
		return "store knows where bytes live, nothing above it"
	case under(from, features...) && under(to, concreteStores...):
		return "feature packages are handed a store; they never pick a concrete one"
	case under(from, features...) && under(to, "internal"):
		return "test harnesses are for tests"
	case under(from, "migrate", "backup", "plan", "prune") && under(to, "sparkconf"):
		return "configuration flows in as values"
	case under(from, "regularfile"):
		return "regularfile opens files safely for everyone; it imports nothing of the project"
	case under(from, "backup") && under(to, "plan", "migrate", "prune"):
		return "the archive format knows nothing of what restores from it"
	}
	return ""
}

// thirdParty says which of the project's packages may import a module:
// each third-party library has its homes. Test files may also drive a
// real server with its own client (a ZooKeeper client in audit's tests).
var thirdParty = map[string][]string{
	"github.com/go-zookeeper/zk":              {"store/zk", "internal/zktest", "bench"},
	"github.com/spf13/cobra":                  {"cmd"},
	"github.com/spf13/pflag":                  {"cmd"},
	"github.com/olekukonko/tablewriter":       {"cmd"},
	"github.com/mattn/go-isatty":              {"cmd"},
	"sigs.k8s.io/yaml":                        {"cmd"},
	"github.com/goccy/go-json":                {"inventory"},
	"github.com/klauspost/compress":           {"codec/envelope", "codec/classes/classdesc", "backup", "store/rocksdb"},
	"github.com/pierrec/lz4":                  {"codec/envelope", "store/rocksdb"},
	"github.com/zeebo/xxh3":                   {"store/rocksdb"},
	"github.com/cespare/xxhash":               {"store/rocksdb"},
	"github.com/pavlo-v-chernykh/keystore-go": {"store/zk"},
	"software.sslmate.com/src/go-pkcs12":      {"store/zk"},
	"golang.org/x/sync":                       {"store/zk", "bench"},
	"golang.org/x/sys":                        {"store/fs", "store/rocksdb", "cmd"},
	"unsafe":                                  {},
}

// thirdPartyHome returns the module an import belongs to and where it may
// be imported; ok is false for the standard library and the project.
func thirdPartyHome(imp string) (string, []string, bool) {
	for mod, homes := range thirdParty {
		if imp == mod || strings.HasPrefix(imp, mod+"/") || strings.HasPrefix(imp, mod+"/v") {
			return mod, homes, true
		}
	}
	return "", nil, false
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		from := rel(p.ImportPath)
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				if why := forbidden(from, rel(imp)); why != "" {
					t.Errorf("%s imports %s: %s", from, rel(imp), why)
				}
				continue
			}
			if mod, homes, ok := thirdPartyHome(imp); ok && !under(from, homes...) {
				t.Errorf("%s imports %s: %s belongs in %v", from, imp, mod, homes)
			}
			if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
				if _, _, ok := thirdPartyHome(imp); !ok {
					t.Errorf("%s imports %s, a module with no home in the rules: say where it belongs", from, imp)
				}
			}
		}
		for _, imp := range append(p.TestImports, p.XTestImports...) {
			if imp == "unsafe" {
				t.Errorf("%s's tests import unsafe", from)
			}
		}
	}
}

func TestRulesCanFail(t *testing.T) {
	for _, c := range []struct{ from, to string }{
		{"codec", "store"},
		{"codec/javaser", "inventory"},
		{"store/zk", "store/fs"},
		{"store/rocksdb", "store/zk"},
		{"migrate", "store/zk"},
		{"plan", "store/fs"},
		{"livemaster", "store/zk"},
		{"prune", "internal/zktest"},
		{"backup", "cmd/recoverctl"},
		{"backup", "plan"},
		{"store", "codec"},
	} {
		if forbidden(c.from, c.to) == "" {
			t.Errorf("%s -> %s should be forbidden", c.from, c.to)
		}
	}
	for _, c := range []struct{ from, to string }{
		{"codec/classes", "codec/javaser"},
		{"migrate", "store"},
		{"plan", "backup"},
		{"backup", "codec"},
		{"cmd/recoverctl", "store/zk"},
		{"store/zk", "store"},
		{"store/rocksdb", "store"},
	} {
		if why := forbidden(c.from, c.to); why != "" {
			t.Errorf("%s -> %s should be allowed, got %q", c.from, c.to, why)
		}
	}
	if _, homes, ok := thirdPartyHome("github.com/go-zookeeper/zk"); !ok || under("audit", homes...) {
		t.Error("go-zookeeper must have homes, and audit must not be one")
	}
	if _, homes, ok := thirdPartyHome("unsafe"); !ok || len(homes) != 0 {
		t.Error("unsafe must be allowed nowhere")
	}
}
