package livemaster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/recoverctl/recoverctl/sparkconf"
)

const (
	masterClass = "org.apache.spark.deploy.master.Master"
	dirKey      = "spark.deploy.recoveryDirectory"
	dirProperty = "-D" + dirKey + "="
	// maxProcFile bounds a read of /proc/<pid>/cmdline or environ; the
	// kernel's own limit on both together is a quarter of the stack limit.
	maxProcFile = 4 << 20
)

// KindProcessUnresolved is a Master process on this host whose recovery
// directory could not be worked out: it counts as holding every directory.
const KindProcessUnresolved Kind = "local-process-unresolved"

// sysPropVars are environment variables the JVM itself reads options from:
// a -D there is a system property of the Master even though it is not on
// /proc/<pid>/cmdline (JAVA_TOOL_OPTIONS by the VM, JDK_JAVA_OPTIONS by the
// java launcher). The command line's own -D options override both.
var sysPropVars = []string{"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"}

// launcherVars carry a Master's -D options to spark-class, which puts them
// on the java command line; seen in the environment alone they are only a
// sign of what the Master was started with, so they add candidates without
// deciding anything.
var launcherVars = []string{sparkconf.VarMasterOpts, sparkconf.VarDaemonJavaOpts}

// CheckProcesses scans procRoot (default /proc) for Master processes whose
// recovery directory is dir. A Master's directory is worked out as Spark
// configures it:
//
//  1. -Dspark.deploy.recoveryDirectory on its command line (a system
//     property, which nothing below overrides);
//  2. else such an option in JAVA_TOOL_OPTIONS or JDK_JAVA_OPTIONS of its
//     environment (/proc/<pid>/environ), also system properties;
//  3. else the spark.deploy.recoveryDirectory of its properties file: the
//     --properties-file argument, else $SPARK_CONF_DIR/spark-defaults.conf,
//     else $SPARK_HOME/conf/spark-defaults.conf, from its environment
//     (Spark's Utils.getDefaultPropertiesFile; a missing default file is
//     skipped as Spark skips it), read with package sparkconf's parser.
//
// -D options in SPARK_MASTER_OPTS or SPARK_DAEMON_JAVA_OPTS of its
// environment count as candidates too. Relative paths (a directory, a
// properties file, SPARK_CONF_DIR) are resolved against the process's
// working directory (/proc/<pid>/cwd), as the Master resolves them.
//
// A Master whose directory cannot be worked out (environment, working
// directory or properties file unreadable) is a KindProcessUnresolved
// holder: it may hold any directory. Processes that are not Masters, or
// that are gone, are skipped.
func CheckProcesses(dir, procRoot string) (Result, error) {
	if procRoot == "" {
		procRoot = "/proc"
	}
	res := Result{Checked: []string{"local Master processes (" + procRoot + "/*/cmdline, environ, cwd, properties files)"}}
	want := canonical(dir)
	des, err := os.ReadDir(procRoot)
	if err != nil {
		return res, fmt.Errorf("check for a live Master: %w", err)
	}
	for _, de := range des {
		pid, err := strconv.Atoi(de.Name())
		if err != nil || pid <= 0 {
			continue
		}
		p := &masterProc{pid: pid, dir: filepath.Join(procRoot, de.Name())}
		raw, err := readBounded(filepath.Join(p.dir, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue // gone, or a kernel thread
		}
		args := flatten(strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00"))
		if !slices.Contains(args, masterClass) {
			continue
		}
		dirs, err := p.recoveryDirs(args)
		if err != nil {
			res.Holders = append(res.Holders, Holder{Kind: KindProcessUnresolved, PID: pid,
				Detail: fmt.Sprintf("Master process %d on this host may be using %s: its recovery directory cannot be worked out (%v)", pid, dir, err)})
			continue
		}
		if len(dirs) == 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("Master process %d sets no %s (command line, environment, properties file)", pid, dirKey))
			continue
		}
		for _, d := range dirs {
			if canonical(d.path) == want {
				res.Holders = append(res.Holders, Holder{Kind: KindProcess, PID: pid,
					Detail: fmt.Sprintf("Master process %d on this host uses %s (%s)", pid, d.path, d.source)})
				break
			}
		}
	}
	return res, nil
}

// masterProc is one Master process's /proc directory.
type masterProc struct {
	pid int
	dir string
	cwd string // read when first needed
}

// candidate is a recovery directory a Master may use, absolute, and where
// it was found.
type candidate struct{ path, source string }

func (p *masterProc) recoveryDirs(args []string) ([]candidate, error) {
	var out []candidate
	for _, v := range optionValues(args) {
		out = append(out, candidate{v, "-D on its command line"})
	}
	if len(out) > 0 {
		return p.resolve(out)
	}
	env, err := p.environ()
	if err != nil {
		return nil, err
	}
	decided := false
	for _, name := range sysPropVars {
		for _, v := range optionValues(splitOpts(env[name])) {
			out = append(out, candidate{v, name + " in its environment"})
			decided = true
		}
	}
	for _, name := range launcherVars {
		for _, v := range optionValues(splitOpts(env[name])) {
			out = append(out, candidate{v, name + " in its environment"})
		}
	}
	if !decided {
		c, err := p.fromPropertiesFile(args, env)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, *c)
		}
	}
	return p.resolve(out)
}

// fromPropertiesFile reads the properties file the Master read; nil when
// it has none or it sets no directory.
func (p *masterProc) fromPropertiesFile(args []string, env map[string]string) (*candidate, error) {
	path, source, explicit := propertiesFile(args, env)
	if path == "" {
		return nil, nil
	}
	abs, err := p.abs(path)
	if err != nil {
		return nil, err
	}
	if !explicit {
		// getDefaultPropertiesFile keeps the default file only if it is
		// a file; a name that cannot be looked up may well be one.
		fi, err := os.Stat(abs)
		if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("look up its %s %s: %w", source, abs, err)
		}
	}
	props, err := sparkconf.ReadPropertiesFile(abs)
	if err != nil {
		return nil, fmt.Errorf("read its %s: %w", source, err)
	}
	v, ok := props[dirKey]
	if !ok || v == "" {
		return nil, nil
	}
	return &candidate{v, source + " " + abs}, nil
}

// propertiesFile is the file MasterArguments loads: --properties-file, or
// Spark's default one from the Master's environment.
func propertiesFile(args []string, env map[string]string) (path, source string, explicit bool) {
	if i := slices.Index(args, masterClass); i >= 0 {
		prog := args[i+1:]
		for j := 0; j+1 < len(prog); j++ {
			if prog[j] == "--properties-file" {
				path = prog[j+1] // the last one wins, as in MasterArguments
			}
		}
		if path != "" {
			return path, "--properties-file", true
		}
	}
	// Spark joins with a separator whatever the variable holds, an empty
	// one included (SPARK_CONF_DIR= means /spark-defaults.conf).
	if d, ok := env["SPARK_CONF_DIR"]; ok {
		return d + "/" + sparkconf.DefaultsFileName, "spark-defaults.conf (SPARK_CONF_DIR)", false
	}
	if h, ok := env["SPARK_HOME"]; ok {
		return h + "/conf/" + sparkconf.DefaultsFileName, "spark-defaults.conf (SPARK_HOME)", false
	}
	return "", "", false
}

// resolve makes every candidate absolute against the process's cwd.
func (p *masterProc) resolve(cs []candidate) ([]candidate, error) {
	for i := range cs {
		abs, err := p.abs(strings.TrimPrefix(cs[i].path, "file://"))
		if err != nil {
			return nil, err
		}
		cs[i].path = abs
	}
	return cs, nil
}

func (p *masterProc) abs(path string) (string, error) {
	if filepath.IsAbs(path) {
		return filepath.Clean(path), nil
	}
	if p.cwd == "" {
		cwd, err := os.Readlink(filepath.Join(p.dir, "cwd"))
		if err != nil {
			return "", fmt.Errorf("read its working directory, against which %q is resolved: %w", path, err)
		}
		p.cwd = cwd
	}
	return filepath.Join(p.cwd, path), nil
}

// environ reads the process's environment; the last definition of a name
// wins, as in Java's System.getenv.
func (p *masterProc) environ() (map[string]string, error) {
	raw, err := readBounded(filepath.Join(p.dir, "environ"))
	if err != nil {
		return nil, fmt.Errorf("read its environment: %w", err)
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(raw, []byte{0}) {
		if name, value, ok := strings.Cut(string(kv), "="); ok {
			env[name] = value
		}
	}
	return env, nil
}

// readBounded reads at most maxProcFile bytes of path; more is an error.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProcFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxProcFile {
		return nil, fmt.Errorf("%s: more than %d bytes", path, maxProcFile)
	}
	return b, nil
}

// flatten splits the arguments that hold a whole command (a shell
// wrapper: sh -c "exec java ... Master") into words.
func flatten(args []string) []string {
	var out []string
	for _, a := range args {
		if strings.ContainsAny(a, " \t\n") && (strings.Contains(a, masterClass) || strings.Contains(a, "-D")) {
			out = append(out, splitOpts(a)...)
			continue
		}
		out = append(out, a)
	}
	return out
}

// optionValues returns the value of every -Dspark.deploy.recoveryDirectory
// in args.
func optionValues(args []string) []string {
	var out []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, dirProperty); ok {
			out = append(out, v)
		}
	}
	return out
}

// splitOpts splits a JVM options string on blanks, honouring single and
// double quotes as spark-class does for SPARK_*_OPTS. It works on bytes:
// every delimiter is ASCII, and a directory named in bytes that are no
// UTF-8 must come out as those bytes, or the Master using it is missed.
func splitOpts(s string) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	in := false
	for i := 0; i < len(s); i++ {
		r := s[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteByte(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// canonical makes two spellings of one directory compare equal: absolute,
// cleaned, symlinks resolved when the path exists.
func canonical(p string) string {
	p = strings.TrimPrefix(p, "file://")
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return filepath.Clean(p)
}
