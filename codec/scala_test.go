package codec

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// The streams under testdata/scala were written by the real scala-library of
// each version (testdata/scala/gen/gen.sh); a case missing for a version is a
// shape that version cannot produce (immutable.ArraySeq before 2.13).
func TestPlainScalaStreams(t *testing.T) {
	cases := []struct {
		name string
		want string
	}{
		{"some_string", `"x"`},
		{"some_int", `4`},
		{"none", `null`},
		{"list", `["a","b","c"]`},
		{"list_empty", `[]`},
		{"vector", `["a","b","c"]`},
		{"arraybuffer", `["a","b"]`},
		{"wrappedarray", `["a","b"]`},
		{"arrayseq", `["a","b"]`},
		{"mutable_arrayseq", `["a","b"]`},
		{"map0", `{}`},
		{"map1", `{"k1":"v1"}`},
		{"map2", `{"k1":"v1","k2":"v2"}`},
		{"map3", `{"k1":"v1","k2":"v2","k3":"v3"}`},
		{"map4", `{"k1":"v1","k2":"v2","k3":"v3","k4":"v4"}`},
		{"map5", `{"k1":"v1","k2":"v2","k3":"v3","k4":"v4","k5":"v5"}`},
		{"map_withdefault", `{"k1":"v1","k2":"v2"}`},
		{"mutable_hashmap", `{"k1":"v1","k2":2}`},
		{"mutable_hashset", `["0","1"]`},
		{"set2", `["e1","e2"]`},
		{"set5", `["e1","e2","e3","e4","e5"]`}, // hash order; compared sorted
		{"tuple2", `["a",1]`},
		{"date", `"2024-01-02T15:04:05.123Z"`},
		{"uri", `"file:/tmp/spark-events"`},
		{"string_array", `["0","1"]`},
		{"enum_app_running", `"RUNNING"`},
	}
	seen := 0
	for _, ver := range []string{"2.11", "2.12", "2.13"} {
		for _, c := range cases {
			path := filepath.Join("testdata", "scala", ver, c.name+".ser")
			data, err := os.ReadFile(path)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			seen++
			t.Run(ver+"/"+c.name, func(t *testing.T) {
				v, _, err := javaser.Decode(data, javaser.Options{})
				if err != nil {
					t.Fatal(err)
				}
				p := Plain(v)
				if l, ok := p.([]any); ok && c.name == "set5" {
					slices.SortFunc(l, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
				}
				got, err := json.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != c.want {
					t.Errorf("got %s, want %s", got, c.want)
				}
			})
		}
	}
	if seen < 3*25 {
		t.Fatalf("only %d scala streams found under testdata/scala; run testdata/scala/gen/gen.sh", seen)
	}
}

// A 2.13 empty map and empty list differ only by the proxy's factory.
func TestEmptyMapVersusEmptyList(t *testing.T) {
	for name, wantMap := range map[string]bool{"list_empty": false, "map0": true} {
		data, err := os.ReadFile(filepath.Join("testdata", "scala", "2.13", name+".ser"))
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := javaser.Decode(data, javaser.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, isMap := scalaMap(v)
		if isMap != wantMap {
			t.Errorf("%s: scalaMap ok = %v, want %v", name, isMap, wantMap)
		}
	}
}

// Back references let a few hundred bytes describe a DAG whose expansion is
// 2^depth; Plain must stay bounded (without the budget this test never ends).
func TestPlainBoundedOnSharedDAG(t *testing.T) {
	var node javaser.Value = "leaf"
	for i := 0; i < 60; i++ {
		node = synthetic("x.Node", map[string]javaser.Value{"a": node, "b": node})
	}
	got, err := json.Marshal(Plain(node))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 4<<20 {
		t.Errorf("generic view of a shared DAG is %d bytes", len(got))
	}
}
