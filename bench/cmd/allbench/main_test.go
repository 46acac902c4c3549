package main

import (
	"fmt"
	"strings"
	"testing"
)

// The prune row selects its tenth by id prefixes: they must cover exactly
// the numbers below the bound, or prune and its floor delete different sets.
func TestPrefixesCoverExactly(t *testing.T) {
	for _, m := range []int{1, 9, 10, 200, 2000, 2345, 10000, 99999} {
		ps := prefixes(m)
		for _, num := range []int{0, m - 1, m, m + 1, m / 2, 999999} {
			s := fmt.Sprintf("%06d", num)
			hit := false
			for _, p := range ps {
				if strings.HasPrefix(s, p) {
					hit = true
				}
			}
			if hit != (num < m) {
				t.Errorf("prefixes(%d) = %v: %s covered %v, want %v", m, ps, s, hit, num < m)
			}
		}
	}
}
