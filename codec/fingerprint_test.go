package codec

import (
	"iter"
	"strings"
	"testing"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// A release missing from the table (2.4, 3.3, a future one) matches no
// release and falls back to the field layout, marked with "~".
func TestFingerprintUnknownReleaseUsesLayout(t *testing.T) {
	cases := []struct {
		descFields []string
		want       string
	}{
		{[]string{"name", "defaultProfile"}, "~3.4+"},
		{[]string{"name", "resourceReqsPerExecutor"}, "~3.0-3.3"},
		{[]string{"name", "memoryPerExecutorMB"}, "~2.x"},
	}
	for _, c := range cases {
		fields := map[string]javaser.Value{}
		for _, f := range c.descFields {
			fields[f] = nil
		}
		desc := synthetic(classAppDesc, fields)
		desc.Classes[0].Desc.SUID = 42
		root := synthetic(classAppInfo, map[string]javaser.Value{"desc": desc})
		root.Classes[0].Desc.SUID = 43
		fp := fingerprint(descsOf(root), root)
		if fp.Line != c.want || len(fp.Matches) != 0 {
			t.Errorf("%v: got %+v, want line %s and no match", c.descFields, fp, c.want)
		}
	}
}

func TestFingerprintTableSeparatesEras(t *testing.T) {
	// From the table itself: no SUID of a record's root class is claimed by
	// two Scala versions, so every record's fingerprint names one Scala line.
	// Nested classes may be shared: Spark 2.4.8's Command,
	// ApplicationDescription, DriverDescription and RpcEndpointRef are the
	// same class on 2.11 and 2.12 (and Command on every 3.x of 2.12).
	roots := map[string]bool{classAppInfo: true, classDriverInfo: true, classWorkerInfo: true}
	for class, bySUID := range suidByClass {
		if !strings.HasPrefix(class, "org.apache.spark.") {
			t.Errorf("%s: fingerprint only looks up classes under org.apache.spark.", class)
		}
		if !roots[class] {
			continue
		}
		for suid, set := range bySUID {
			scala := ""
			for i, r := range tableReleases {
				if set&(1<<uint(i)) == 0 {
					continue
				}
				s := r[len(r)-4:]
				if scala != "" && s != scala {
					t.Errorf("%s SUID %d shared by Scala %s and %s", class, suid, scala, s)
				}
				scala = s
			}
		}
	}
	if len(tableReleases) < 2 {
		t.Fatalf("fingerprint table has %d releases; run testdata/fingerprint/gen.sh", len(tableReleases))
	}
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{{"3.9", "3.10", true}, {"3.10", "3.9", false}, {"4.0", "4.0", false}, {"3.5", "4.0", true}, {"2.4", "3.0", true}} {
		if got := versionLess(c.a, c.b); got != c.less {
			t.Errorf("versionLess(%s, %s) = %v", c.a, c.b, got)
		}
	}
	set := releaseSet(0)
	for i, r := range tableReleases {
		if r == "3.0.3-2.12" || r == "3.2.4-2.12" {
			set |= 1 << uint(i)
		}
	}
	if got := lineOf(set); got != "3.0-3.2" {
		t.Errorf("lineOf(3.0.3, 3.2.4) = %q, want 3.0-3.2", got)
	}
}

// descsOf yields the class descriptors of a tree built without a stream.
func descsOf(root *javaser.Object) iter.Seq[*javaser.ClassDesc] {
	return func(yield func(*javaser.ClassDesc) bool) {
		seen := map[*javaser.ClassDesc]bool{}
		var walk func(v javaser.Value) bool
		walk = func(v javaser.Value) bool {
			o, ok := v.(*javaser.Object)
			if !ok || o == nil {
				return true
			}
			for _, c := range o.Classes {
				if !seen[c.Desc] {
					seen[c.Desc] = true
					if !yield(c.Desc) {
						return false
					}
				}
				for _, x := range c.Values {
					if !walk(x) {
						return false
					}
				}
			}
			return true
		}
		walk(root)
	}
}
