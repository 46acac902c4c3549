package classes

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// Gadget is one known gadget class family.
type Gadget struct {
	Pattern string `json:"pattern"` // JEP-290 pattern
	Chain   string `json:"chain"`   // public chain name(s)
	Library string `json:"library"` // the artifact carrying the class
	Probe   string `json:"probe,omitempty"`
	filter  *Filter
}

//go:embed gadgets.json
var gadgetsJSON []byte

//go:embed allow.txt
var allowTxt string

// embedded is gadgets.json and allow.txt, parsed on first use so that a
// command that audits nothing (recoverctl --version) does not pay for them.
type embedded struct {
	gadgets      []Gadget
	defaultAllow *Filter
}

var lists = sync.OnceValue(func() embedded {
	var doc struct {
		Gadgets []Gadget `json:"gadgets"`
	}
	// Both files are embedded and checked by the tests: a parse error is a
	// broken build, as an init-time panic would have been.
	if err := json.Unmarshal(gadgetsJSON, &doc); err != nil {
		panic(fmt.Sprintf("audit: gadgets.json: %v", err))
	}
	for i := range doc.Gadgets {
		f, err := ParseFilter(doc.Gadgets[i].Pattern)
		if err != nil {
			panic(fmt.Sprintf("audit: gadgets.json: %v", err))
		}
		doc.Gadgets[i].filter = f
	}
	var pats []string
	for l := range strings.SplitSeq(allowTxt, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			pats = append(pats, l)
		}
	}
	f, err := ParseFilter(strings.Join(pats, ";"))
	if err != nil {
		panic(fmt.Sprintf("audit: allow.txt: %v", err))
	}
	return embedded{gadgets: doc.Gadgets, defaultAllow: f}
})

// Gadgets returns the embedded gadget list.
func Gadgets() []Gadget { return append([]Gadget(nil), lists().gadgets...) }

// DefaultAllowList returns the embedded allow-list as one filter string.
func DefaultAllowList() string { return lists().defaultAllow.String() }

// matchGadgets returns every gadget entry whose pattern allows the class.
func matchGadgets(class string) []Gadget {
	var out []Gadget
	for _, g := range lists().gadgets {
		if g.filter.Check(class) == Allowed {
			out = append(out, g)
		}
	}
	return out
}

// structural looks for chains recognised by how classes combine rather
// than by one name: URLDNS (a java.net.URL as a key of a hash map, whose
// hashCode does a DNS lookup) and Jdk7u21 (a LinkedHashSet holding a
// dynamic proxy, whose equals reaches TemplatesImpl).
func structural(s *Stream) []Finding {
	var out []Finding
	urlInMap, linkedSetProxy := false, false
	for _, c := range s.Contents {
		javaser.Walk(c, func(v javaser.Value) bool {
			o, ok := v.(*javaser.Object)
			if !ok || o == nil {
				return true
			}
			switch o.ClassName() {
			case "java.util.HashMap", "java.util.Hashtable", "java.util.LinkedHashMap", "java.util.HashSet", "java.util.LinkedHashSet":
				isSet := strings.HasSuffix(o.ClassName(), "Set")
				for _, cd := range o.Classes {
					for _, a := range cd.Annotations {
						ao, ok := a.(*javaser.Object)
						if !ok || ao == nil {
							continue
						}
						if ao.ClassName() == "java.net.URL" {
							urlInMap = true
						}
						if isSet && ao.Desc != nil && ao.Desc.Proxy {
							linkedSetProxy = true
						}
					}
				}
			}
			return true
		})
	}
	if urlInMap {
		out = append(out, Finding{Check: CheckGadget, Severity: SeverityCritical, Class: "java.net.URL",
			Chain: "URLDNS", Library: "JDK (java.base)",
			Detail: "a java.net.URL is a key of a hash map: deserializing it makes the Master resolve the URL's host (URLDNS)"})
	}
	if linkedSetProxy {
		out = append(out, Finding{Check: CheckGadget, Severity: SeverityCritical, Class: "java.util.LinkedHashSet",
			Chain: "Jdk7u21", Library: "JDK",
			Detail: "a hash set holds a dynamic proxy: the Jdk7u21 shape (proxy equals() reaching TemplatesImpl)"})
	}
	return out
}
