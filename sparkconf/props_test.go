package sparkconf

import (
	"errors"
	"testing"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []property
	}{
		{"separators", "a=1\nb:2\nc 3\nd\t=\t4\ne = : 5\nf==6\n", []property{
			{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}, {"d", "4", 4}, {"e", ": 5", 5}, {"f", "=6", 6}}},
		{"comments and blanks", "# x=1\n   ! y=2\n\n   \t\nz=3\n", []property{{"z", "3", 5}}},
		{"key only", "lonely\nempty=\n", []property{{"lonely", "", 1}, {"empty", "", 2}}},
		{"trailing blanks kept until trim", "a=1  \n", []property{{"a", "1  ", 1}}},
		{"escapes", `a=x\ty\nz\\w\:v\u00e9\q` + "\n", []property{{"a", "x\ty\nz\\w:vé" + "q", 1}}},
		{"escaped separators in key", `a\=b\ c=d` + "\n", []property{{"a=b c", "d", 1}}},
		{"surrogate pair", `a=\ud83d\ude00` + "\n", []property{{"a", "😀", 1}}},
		{"continuation", "a=one \\\n    two\\\n three\nb=2\n", []property{{"a", "one twothree", 1}, {"b", "2", 4}}},
		{"even backslashes do not continue", "a=x\\\\\nb=y\n", []property{{"a", `x\`, 1}, {"b", "y", 2}}},
		{"continued line is not a comment", "a=\\\n# not a comment\n", []property{{"a", "# not a comment", 1}}},
		{"continuation at end of file", "a=x\\", []property{{"a", "x", 1}}},
		{"crlf and cr", "a=1\r\nb=2\rc=\\\r\n  3\r\n", []property{{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}}},
		{"duplicates in order", "k=1\nk=2\n", []property{{"k", "1", 1}, {"k", "2", 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProperties([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("property %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	for _, in := range []string{`a=\u12`, "a=1\nb=\\u00zz\n", `\uXYZW=1`} {
		_, err := parseProperties([]byte(in))
		if !errors.Is(err, errMalformedUnicode) {
			t.Errorf("parseProperties(%q) err = %v, want malformed escape", in, err)
		}
	}
}

func TestTrimExceptCRLF(t *testing.T) {
	tests := []struct{ in, want string }{
		{" \t a b \f", "a b"},
		{"\r\nx\n", "\r\nx\n"},
		{"\x00\x01x\x1f", "x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := trimExceptCRLF(tt.in); got != tt.want {
			t.Errorf("trimExceptCRLF(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseProperties(f *testing.F) {
	for _, s := range []string{"a=1\n", "a\\\n b", `\u0041=\uD83D`, "# c\n!d\ne:f\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseProperties([]byte(s))
	})
}
