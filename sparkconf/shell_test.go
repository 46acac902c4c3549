package sparkconf

import (
	"strings"
	"testing"
)

func TestShellAssignments(t *testing.T) {
	tests := []struct {
		name   string
		script string
		env    map[string]string
		want   map[string]string // variable -> value; "<unset>" for unset
		warns  []string          // substrings, one per expected warning, in order
	}{
		{
			name:   "plain export and quotes",
			script: "A=1\nexport B='two words' C=\"x $A y\"\nD=a'b c'\"d\"e\n",
			want:   map[string]string{"A": "1", "B": "two words", "C": "x 1 y", "D": "ab cde"},
		},
		{
			name:   "single quotes keep dollar and backslash",
			script: `A='$HOME \n'` + "\n",
			env:    map[string]string{"HOME": "/root"},
			want:   map[string]string{"A": `$HOME \n`},
		},
		{
			name:   "double quote escapes",
			script: `A="a\"b\$c\\d\e"` + "\n",
			want:   map[string]string{"A": `a"b$c\d\e`},
		},
		{
			name:   "unquoted backslash",
			script: `A=a\ b\$c` + "\n",
			want:   map[string]string{"A": "a b$c"},
		},
		{
			name:   "braces and defaults",
			script: "X=\nA=${UNSET:-dflt}\nB=${X:-empty}\nC=${X-set}\nD=${HOME:+has}\nE=${NEW:=made}\nF=${E}s\n",
			env:    map[string]string{"HOME": "/root"},
			want:   map[string]string{"A": "dflt", "B": "empty", "C": "", "D": "has", "E": "made", "NEW": "made", "F": "mades"},
		},
		{
			name:   "environment then script",
			script: "OPTS=\"$OPTS -Db=2\"\nOPTS+=\" -Dc=3\"\n",
			env:    map[string]string{"OPTS": "-Da=1"},
			want:   map[string]string{"OPTS": "-Da=1 -Db=2 -Dc=3"},
		},
		{
			name:   "left to right on one line",
			script: "A=1 B=$A; C=$B\n",
			want:   map[string]string{"A": "1", "B": "1", "C": "1"},
		},
		{
			name:   "tilde",
			script: "A=~/x\nB=\"~/x\"\n",
			env:    map[string]string{"HOME": "/home/s"},
			want:   map[string]string{"A": "/home/s/x", "B": "~/x"},
		},
		{
			name:   "continuations",
			script: "A=one\\\ntwo\nB=\"x \\\n  y\"\nC='p \\\nq'\n",
			want:   map[string]string{"A": "onetwo", "B": "x   y", "C": "p \\\nq"},
		},
		{
			name:   "comments",
			script: "# A=1\nA=2 # trailing\nB=x#y\n",
			want:   map[string]string{"A": "2", "B": "x#y"},
		},
		{
			name:   "unset",
			script: "unset HOME A\nB=$HOME\n",
			env:    map[string]string{"HOME": "/root"},
			want:   map[string]string{"HOME": "<unset>", "B": ""},
		},
		{
			name:   "command substitution",
			script: "A=$(hostname)x\nB=`date`\nC=\"$(echo \"a b\")\"\n",
			want:   map[string]string{"A": "x", "B": "", "C": ""},
			warns:  []string{"$(hostname) not evaluated", "`date` not evaluated", `$(echo "a b") not evaluated`},
		},
		{
			name:   "special parameters and odd braces",
			script: "A=$1\nB=${#HOME}\nC=${HOME%/*}\nD=$\nE=$-x\n",
			want:   map[string]string{"A": "", "B": "", "C": "", "D": "$", "E": "x"},
			warns:  []string{"$1", "${#HOME}", "${HOME%/*}", "$-"},
		},
		{
			name:   "if block is skipped",
			script: "A=1\nif [ -f /x ]; then\n  A=2\nelse\n  A=3\nfi\nB=$A\n",
			want:   map[string]string{"A": "1", "B": "1"},
			warns:  []string{"if block not evaluated", "assignment to A inside the if block at line 2", "assignment to A inside the if block at line 2"},
		},
		{
			name:   "nested blocks and functions",
			script: "f() {\n  if true; then A=1; fi\n}\ncase $X in\n  a) A=2 ;;\nesac\nfor i in 1 2; do A=3; done\nB=after\n",
			want:   map[string]string{"A": "<unset>", "B": "after"},
			warns:  []string{"function block", "assignment to A", "case block", "assignment to A", "for block", "assignment to A"},
		},
		{
			name:   "commands are not run",
			script: ". /etc/other.sh\nsource x\nulimit -n 1\nA=1 java -version\nB=2 | cat\nexport -f g\n",
			want:   map[string]string{"A": "<unset>", "B": "<unset>"},
			warns:  []string{`command "." not executed`, `command "source"`, `command "ulimit"`, `command "java" not executed, and the assignments`, `contains "|"`, "export -f not understood"},
		},
		{
			name:   "unterminated quote stops reading",
			script: "A=1\nB=\"open\nC=3\n",
			want:   map[string]string{"A": "1", "B": "<unset>", "C": "<unset>"},
			warns:  []string{"spark-env.sh:2: unterminated double quote"},
		},
		{
			name:   "crlf keeps carriage returns",
			script: "A=x\r\n\r\nB=\"y\"\r\n",
			want:   map[string]string{"A": "x\r", "B": "y\r"},
			warns:  []string{"CRLF"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := newShell(EnvFileName, mapEnv(tt.env))
			sh.run([]byte(tt.script))
			for k, want := range tt.want {
				got, set := sh.lookup(k)
				if want == "<unset>" {
					if set {
						t.Errorf("%s = %q, want unset", k, got.b)
					}
					continue
				}
				if string(got.b) != want {
					t.Errorf("%s = %q, want %q", k, got.b, want)
				}
			}
			if len(sh.warnings) != len(tt.warns) {
				t.Fatalf("warnings:\n%s\nwant %d: %q", joinWarnings(sh.warnings), len(tt.warns), tt.warns)
			}
			for i, w := range tt.warns {
				if !strings.Contains(sh.warnings[i].String(), w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, sh.warnings[i], w)
				}
			}
		})
	}
}

func joinWarnings(ws []Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString("  " + w.String() + "\n")
	}
	return b.String()
}

// Every byte of an expanded value keeps the line it was written on, so a
// -D option can be traced through variables to its line.
func TestShellKeepsLines(t *testing.T) {
	sh := newShell(EnvFileName, mapEnv(map[string]string{"OPTS": "-De=0"}))
	sh.run([]byte("ZK=zk:2181\n\nOPTS=\"$OPTS \\\n -Dz=$ZK\"\n"))
	v, _ := sh.lookup("OPTS")
	toks, err := splitJavaOptions(v)
	if err != nil {
		t.Fatal(err)
	}
	want := []optToken{{"-De=0", 0}, {"-Dz=zk:2181", 4}}
	if len(toks) != len(want) {
		t.Fatalf("tokens = %+v", toks)
	}
	for i := range want {
		if toks[i] != want[i] {
			t.Errorf("token %d = %+v, want %+v", i, toks[i], want[i])
		}
	}
}

func TestSplitJavaOptions(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"  -Da=1\t-Db=2 \r\n", []string{"-Da=1", "-Db=2"}, false},
		{`-Da="x y" '-Db=p q' -Dc=a\ b`, []string{"-Da=x y", "-Db=p q", "-Dc=a b"}, false},
		{`-Da='it"s' "-Db=\"q\"" '-Dc=\n'`, []string{`-Da=it"s`, `-Db="q"`, `-Dc=\n`}, false},
		{`"" ''`, []string{"", ""}, false},
		{"-Da=1\u00a0x", []string{"-Da=1\u00a0x"}, false},
		{"-Da=1\u2003-Db=2", []string{"-Da=1", "-Db=2"}, false},
		{`-Da="open`, []string{"-Da=open"}, true},
		{`-Da=x\`, []string{"-Da=x"}, true},
	}
	for _, tt := range tests {
		toks, err := splitJavaOptions(spanOf(tt.in, 1))
		var got []string
		for _, tk := range toks {
			got = append(got, tk.text)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) || (err != nil) != tt.wantErr {
			t.Errorf("splitJavaOptions(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzShell(f *testing.F) {
	for _, s := range []string{
		"A=1\n", "export A=\"$B ${C:-d}\"\n", "if x; then\nA=1\nfi\n", "A=$(x\n", "A='\n", "A=${X:=${Y:-`z`}}\\\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh := newShell(EnvFileName, mapEnv(map[string]string{"B": "b"}))
		sh.run([]byte(s))
		for _, v := range sh.vars {
			if v != nil && len(v.b) != len(v.lines) {
				t.Fatalf("span out of step: %q", s)
			}
			if v != nil {
				_, _ = splitJavaOptions(*v)
			}
		}
	})
}
