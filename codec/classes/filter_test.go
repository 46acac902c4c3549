package classes

import (
	"errors"
	"testing"
)

// The expectations follow java.io.ObjectInputFilter.Config.createFilter's
// documentation and its JDK 17-25 implementation (Config.Global).
func TestFilterJEP290(t *testing.T) {
	tests := []struct {
		spec, class string
		want        Status
	}{
		{"java.util.Date", "java.util.Date", Allowed},
		{"java.util.Date", "java.util.Dates", Undecided},
		{"!java.util.Date", "java.util.Date", Rejected},
		{"java.util.*", "java.util.HashMap", Allowed},
		{"java.util.*", "java.util.concurrent.TimeUnit", Undecided}, // .* is one package only
		{"java.util.*", "java.utilx.Foo", Undecided},
		{"java.util.**", "java.util.concurrent.TimeUnit", Allowed},
		{"java.util.**", "java.util.HashMap", Allowed},
		{"java.util.**", "java.utilx.Foo", Undecided}, // prefix keeps the '.'
		{"java.util.**", "java.util", Undecided},
		{"java.util.Hash*", "java.util.HashMap", Allowed},
		{"java.util.Hash*", "java.util.Hashtable", Allowed},
		{"java.util.Hash*", "java.util.TreeMap", Undecided},
		{"*", "anything.At.All", Allowed},
		{"!*", "anything.At.All", Rejected},
		{"scala.collection.immutable.*", "scala.collection.immutable.Map$Map1", Allowed}, // nested class: package is the binary name's
		{"!org.apache.commons.collections.functors.*;*", "org.apache.commons.collections.functors.InvokerTransformer", Rejected},
		{"*;!org.apache.commons.collections.functors.*", "org.apache.commons.collections.functors.InvokerTransformer", Allowed}, // first match wins
		{"!java.util.HashMap;java.util.*", "java.util.HashMap", Rejected},
		{"java.util.*;!java.util.HashMap", "java.util.HashMap", Allowed},
		{"java.lang.String", "[Ljava.lang.String;", Allowed}, // arrays: element type
		{"java.lang.String", "[[Ljava.lang.String;", Allowed},
		{"!java.lang.String", "[[[Ljava.lang.String;", Rejected},
		{"*", "[I", Undecided}, // arrays of primitives are undecided
		{"!*", "[[J", Undecided},
		{"java.base/java.util.*", "java.util.HashMap", Allowed},
		{"java.base/java.util.*", "scala.Some", Undecided},
		{"java.rmi/java.util.*", "java.util.HashMap", Undecided}, // wrong module
		{"!java.rmi/*", "java.rmi.server.UnicastRemoteObject", Rejected},
		{"!java.rmi/*", "sun.rmi.server.UnicastRef", Rejected},
		{"java.base/*", "org.apache.spark.deploy.master.WorkerInfo", Undecided}, // the class path's unnamed module
		{" java.util.Date", "java.util.Date", Undecided},                        // white space is significant
		{"java.util.Date;;", "java.util.Date", Allowed},                         // empty patterns ignored
		{"maxdepth=5;java.util.Date", "java.util.Date", Allowed},
		{"maxdepth=5", "java.util.Date", Undecided},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.spec)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.spec, err)
			continue
		}
		if got := f.Check(tt.class); got != tt.want {
			t.Errorf("%q on %s = %s, want %s", tt.spec, tt.class, got, tt.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	for _, spec := range []string{
		"", ";;", // no non-empty patterns
		"!",            // class or package missing
		".*",           // package missing
		"!.*",          // package missing
		".**",          // package missing (prefix shorter than 2)
		"/java.util.*", // module name missing
		"maxdepth=-1", "maxdepth=x", "maxfoo=1",
	} {
		if _, err := ParseFilter(spec); !errors.Is(err, ErrPattern) {
			t.Errorf("ParseFilter(%q) = %v, want ErrPattern", spec, err)
		}
	}
}

func TestFilterLimits(t *testing.T) {
	f, err := ParseFilter("maxdepth=3;maxrefs=10;maxbytes=100;maxarray=4")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.CheckLimits(3, 10, 100, 4); len(got) != 0 {
		t.Errorf("at the limits: %v", got)
	}
	if got := f.CheckLimits(4, 11, 101, 5); len(got) != 4 {
		t.Errorf("over every limit: %v", got)
	}
}
