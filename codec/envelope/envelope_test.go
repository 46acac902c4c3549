package envelope

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// sample is one file of testdata/samples/<spark version>/, written by testdata/gen with
// Spark's own CompressionCodec and serializers.
type sample struct {
	path  string
	name  string // file name without .bin
	codec Form   // FormUnknown when stored uncompressed
	data  []byte
	want  []byte // expected payload
}

func loadSamples(t testing.TB) []sample {
	t.Helper()
	paths, err := filepath.Glob("testdata/samples/*/*.bin")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples under testdata/samples (run testdata/gen/gen.sh): %v", err)
	}
	var out []sample
	for _, p := range paths {
		s := sample{path: p, name: strings.TrimSuffix(filepath.Base(p), ".bin")}
		if s.data, err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
		rest := s.name
		for _, c := range []Form{FormLZ4, FormLZF, FormSnappy, FormZstd} {
			if r, ok := strings.CutPrefix(s.name, c.String()+"-"); ok {
				s.codec, rest = c, strings.TrimSuffix(r, "-parallel")
			}
		}
		switch {
		case s.codec == FormUnknown:
			s.want = s.data
		case rest == "empty":
			s.want = []byte{}
		default:
			if s.want, err = os.ReadFile(filepath.Join(filepath.Dir(p), rest+".bin")); err != nil {
				t.Fatalf("%s: expected payload: %v", p, err)
			}
		}
		out = append(out, s)
	}
	return out
}

func TestSamples(t *testing.T) {
	for _, s := range loadSamples(t) {
		t.Run(s.path, func(t *testing.T) {
			if s.codec == FormLZF && len(s.data) == 0 {
				// compress-lzf writes nothing at all for an empty stream, so the bytes
				// cannot say what they are; only a caller who knows the codec can open them.
				if _, err := Open(s.data, Limits{}); !errors.Is(err, ErrTruncated) {
					t.Fatalf("Open(empty) = %v, want ErrTruncated", err)
				}
				u, err := OpenAs(FormLZF, s.data, Limits{})
				if err != nil || len(u.Payload) != 0 {
					t.Fatalf("OpenAs(lzf, empty) = %q, %v", u.Payload, err)
				}
				return
			}
			wantForm := s.codec
			if wantForm == FormUnknown {
				wantForm = FormJava
				if strings.HasPrefix(s.name, "kryo-") {
					wantForm = FormKryo
				}
			}
			if got := Detect(s.data); got != wantForm {
				t.Fatalf("Detect = %v, want %v", got, wantForm)
			}
			u, err := Open(s.data, Limits{})
			if strings.Contains(s.name, "kryo-") {
				var ke *KryoError
				if !errors.As(err, &ke) || !errors.Is(err, ErrKryo) {
					t.Fatalf("Open err = %v, want *KryoError", err)
				}
				class := "org.apache.spark.deploy.master.WorkerInfo"
				if strings.Contains(s.name, "driver") {
					class = "org.apache.spark.deploy.master.DriverInfo"
				}
				if ke.Class != class || u.KryoClass != class || u.Serializer != FormKryo {
					t.Fatalf("Kryo class %q / %q (serializer %v), want %q", ke.Class, u.KryoClass, u.Serializer, class)
				}
			} else if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if u.Codec != s.codec {
				t.Errorf("Codec = %v, want %v", u.Codec, s.codec)
			}
			if !bytes.Equal(u.Payload, s.want) {
				t.Fatalf("payload differs: got %d bytes, want %d", len(u.Payload), len(s.want))
			}
			if len(s.want) > 0 && !strings.Contains(s.name, "kryo-") && u.Serializer != FormJava {
				t.Errorf("Serializer = %v, want java", u.Serializer)
			}
		})
	}
}

// The large sample must really exercise multi-block framing, or the tests above prove less
// than they seem to.
func TestSamplesHaveSeveralBlocks(t *testing.T) {
	for _, s := range loadSamples(t) {
		if !strings.HasSuffix(s.name, "-large") {
			continue
		}
		var n int
		switch s.codec {
		case FormLZ4:
			n = bytes.Count(s.data, magicLZ4)
		case FormLZF:
			n = bytes.Count(s.data, []byte("ZV\x01")) + bytes.Count(s.data, []byte("ZV\x00"))
		case FormSnappy:
			n = 2 // chunk lengths are not marked; sizes alone show several 32 KiB chunks
			if len(s.want) <= 32<<10 {
				n = 1
			}
		default:
			continue
		}
		if n < 2 {
			t.Errorf("%s: %d blocks, want several", s.path, n)
		}
	}
}

func TestConcatenatedStreams(t *testing.T) {
	byName := map[string]sample{}
	for _, s := range loadSamples(t) {
		byName[s.path] = s
	}
	for _, c := range []Form{FormLZ4, FormLZF, FormSnappy, FormZstd} {
		dir := "testdata/samples/4.3.0/"
		small, large := byName[dir+c.String()+"-small.bin"], byName[dir+c.String()+"-large.bin"]
		data := append(append([]byte{}, small.data...), large.data...)
		u, err := Open(data, Limits{})
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if want := append(append([]byte{}, small.want...), large.want...); !bytes.Equal(u.Payload, want) {
			t.Fatalf("%v: concatenated payload differs (%d bytes, want %d)", c, len(u.Payload), len(want))
		}
	}
}

// Cut every sample at every position (large samples: near each block boundary and at a
// stride, to keep the test fast). No cut may panic; framings with lengths or checksums
// (lz4, zstd) must always fail; framings without an end marker (lzf, snappy) may succeed
// only at a chunk boundary, and then with a prefix of the payload.
func TestTruncation(t *testing.T) {
	for _, s := range loadSamples(t) {
		if s.codec == FormUnknown || len(s.data) == 0 {
			continue
		}
		t.Run(s.path, func(t *testing.T) {
			for _, cut := range cuts(s) {
				u, err := Open(s.data[:cut], Limits{})
				if err != nil {
					var fe *FormatError
					if !errors.As(err, &fe) {
						t.Fatalf("cut %d: error %v is not a *FormatError", cut, err)
					}
					continue
				}
				if s.codec == FormLZ4 || s.codec == FormZstd {
					t.Fatalf("cut %d of %d: succeeded with %d bytes", cut, len(s.data), len(u.Payload))
				}
				if !bytes.HasPrefix(s.want, u.Payload) || len(u.Payload) == len(s.want) {
					t.Fatalf("cut %d: success with a payload that is not a proper prefix", cut)
				}
			}
		})
	}
}

func cuts(s sample) []int {
	if len(s.data) < 4096 {
		out := make([]int, len(s.data))
		for i := range out {
			out[i] = i
		}
		return out
	}
	seen := map[int]bool{}
	var out []int
	add := func(i int) {
		if i >= 0 && i < len(s.data) && !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	for i := 0; i < len(s.data); i += 61 {
		add(i)
	}
	for i := range 64 {
		add(i)
		add(len(s.data) - 1 - i)
	}
	for _, m := range [][]byte{magicLZ4, []byte("ZV")} {
		for off := 0; ; {
			j := bytes.Index(s.data[off:], m)
			if j < 0 {
				break
			}
			for d := -8; d <= 24; d++ {
				add(off + j + d)
			}
			off += j + 1
		}
	}
	return out
}

func TestCorruption(t *testing.T) {
	small, err := os.ReadFile("testdata/samples/4.3.0/lz4-small.bin")
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(small)
	bad[17] ^= 0x01 // first byte of the block checksum
	_, err = Open(bad, Limits{})
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrChecksum) || fe.Offset != 17 {
		t.Fatalf("checksum flip: %v", err)
	}
	want := binary.LittleEndian.Uint32(bad[17:])
	if !strings.HasPrefix(err.Error(), "offset 17: lz4 block: checksum mismatch, want 0x") ||
		fe.Want != "0x"+hex32(want) {
		t.Fatalf("message %q / want %q", err, fe.Want)
	}

	// A flipped bit anywhere past the magic must never yield a wrong payload for lz4 (the
	// checksum covers every block) or zstd.
	for _, name := range []string{"lz4-small", "zstd-small", "lzf-small", "snappy-small"} {
		data, err := os.ReadFile("testdata/samples/4.3.0/" + name + ".bin")
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile("testdata/samples/4.3.0/small.bin")
		for i := range data {
			b := bytes.Clone(data)
			b[i] ^= 0x10
			u, err := Open(b, Limits{})
			if err == nil && !bytes.Equal(u.Payload, want) && strings.HasPrefix(name, "lz4") {
				t.Fatalf("%s: flip at %d gave a wrong payload without error", name, i)
			}
		}
	}
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = digits[v&0xF]
		v >>= 4
	}
	return string(b)
}

func TestUnknownAndShort(t *testing.T) {
	cases := []struct {
		in   []byte
		want error
	}{
		{nil, ErrTruncated},
		{[]byte("LZ4Bl"), ErrTruncated},
		{[]byte{0xAC, 0xED}, ErrTruncated},
		{[]byte{0x82, 'S', 'N'}, ErrTruncated},
		{[]byte("hello, world"), ErrUnknownForm},
		{[]byte{0x01, 0x00, '1', 'x' | 0x80}, ErrUnknownForm},
		{[]byte("ZV\x07\x00\x01a"), ErrUnknownForm},
	}
	for _, c := range cases {
		_, err := Open(c.in, Limits{})
		if !errors.Is(err, c.want) {
			t.Errorf("Open(%q) = %v, want %v", c.in, err, c.want)
		}
	}
	if _, err := OpenAs(FormJava, []byte{0xAC, 0xED, 0, 5}, Limits{}); !errors.Is(err, ErrUnknownForm) {
		t.Errorf("OpenAs(java) = %v", err)
	}
}

// lzf stored chunks (type 0) and back-references that overlap their own output are not
// guaranteed to occur in the samples, so check them on hand-made chunks.
func TestLZFHandMade(t *testing.T) {
	payload := append([]byte{0xAC, 0xED, 0, 5}, bytes.Repeat([]byte("ab"), 10)...)
	stored := append([]byte{'Z', 'V', 0, 0, byte(len(payload))}, payload...)
	// literal run of 6 (ctrl 5): AC ED 00 05 'a' 'b'; back-reference len 16+2=18 at
	// distance 2 (ctrl = 7<<5, extra 11, offset byte 1): overlapping copy of "ab".
	block := []byte{5, 0xAC, 0xED, 0, 5, 'a', 'b', 7 << 5, 16 - 7, 1}
	compressed := append([]byte{'Z', 'V', 1, 0, byte(len(block)), 0, byte(len(payload))}, block...)
	for _, in := range [][]byte{stored, compressed, append(bytes.Clone(stored), compressed...)} {
		u, err := Open(in, Limits{})
		want := payload
		if len(in) > len(stored) && len(in) > len(compressed) {
			want = append(bytes.Clone(payload), payload...)
		}
		if err != nil || !bytes.Equal(u.Payload, want) {
			t.Fatalf("Open(% x) = % x, %v", in, u.Payload, err)
		}
	}
	bad := bytes.Clone(compressed)
	bad[len(bad)-1] = 40 // back-reference before the chunk start
	if _, err := Open(bad, Limits{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad reference: %v", err)
	}
}

func TestKryoClass(t *testing.T) {
	name := "org.apache.spark.deploy.master.ApplicationInfo"
	ascii := append([]byte{1, 0}, name...)
	ascii[len(ascii)-1] |= 0x80
	// Length-prefixed form: charCount+1 = 47 needs 6 bits + 1 continuation.
	n := len(name) + 1
	utf := append([]byte{1, 0, 0x80 | 0x40 | byte(n&0x3F), byte(n >> 6)}, name...)
	for _, in := range [][]byte{ascii, utf} {
		got, ok := KryoClass(append(in, 1, 2, 3))
		if !ok || got != name {
			t.Errorf("KryoClass(% x) = %q, %v", in[:4], got, ok)
		}
		if Detect(in) != FormKryo {
			t.Errorf("Detect(% x) = %v", in[:4], Detect(in))
		}
	}
	for _, in := range [][]byte{{1, 0, 'a' | 0x80, 0}, {1, 0, 0xC0}, {1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, {1, 0, 'a', 'b'}} {
		if got, ok := KryoClass(in); ok {
			t.Errorf("KryoClass(% x) = %q, want no match", in, got)
		}
	}
}

func TestXXH32(t *testing.T) {
	for _, c := range []struct {
		in   string
		seed uint32
		want uint32
	}{
		{"", 0, 0x02CC5D05},
		{"abc", 0, 0x32D153FF},
		{"Nobody inspects the spammish repetition", 0, 0xE2293B2F},
	} {
		if got := xxh32([]byte(c.in), c.seed); got != c.want {
			t.Errorf("xxh32(%q) = %08x, want %08x", c.in, got, c.want)
		}
	}
}

// A zstd bomb (1 GiB of zeros, a few KiB stored) must stop at the cap with memory bounded
// by the cap, not by the declared or real output.
func TestZstdBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 1 GiB")
	}
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 1024 {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := buf.Bytes()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = Open(bomb, Limits{MaxSize: 16 << 20, MaxRatio: -1})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("bomb of %d bytes: %v, want ErrLimit", len(bomb), err)
	}
	// Output buffer doubling (about 2x the cap) plus the decoder's window-sized history:
	// a small multiple of the cap, nothing like the 1 GiB the frames expand to.
	alloc := after.TotalAlloc - before.TotalAlloc
	if alloc > 128<<20 {
		t.Fatalf("allocated %d MiB for a 16 MiB cap", alloc>>20)
	}
	t.Logf("bomb %d bytes -> ErrLimit after %d MiB allocated in total", len(bomb), alloc>>20)
	// The default ratio cap refuses it far earlier.
	if _, err := Open(bomb, Limits{}); !errors.Is(err, ErrLimit) {
		t.Fatalf("default limits: %v", err)
	}
}

// An lz4 stream of valid 1 MiB blocks of zeros must hit the cap before the block that
// would cross it is allocated.
func TestLZ4Bomb(t *testing.T) {
	const blockLen = 1 << 20
	src := make([]byte, blockLen)
	comp := make([]byte, lz4.CompressBlockBound(blockLen))
	n, err := lz4.CompressBlock(src, comp, nil)
	if err != nil || n == 0 {
		t.Fatal(n, err)
	}
	var hdr [lz4HeaderLen]byte
	copy(hdr[:], magicLZ4)
	hdr[8] = lz4MethodLZ4 | 10 // 1 MiB blocks
	binary.LittleEndian.PutUint32(hdr[9:], uint32(n))
	binary.LittleEndian.PutUint32(hdr[13:], blockLen)
	binary.LittleEndian.PutUint32(hdr[17:], xxh32(src, lz4Seed)&lz4ChecksumMask)
	var bomb []byte
	const blocks = 72 // 72 MiB: over the default 64 MiB cap
	for range blocks {
		bomb = append(append(bomb, hdr[:]...), comp[:n]...)
	}
	end := [lz4HeaderLen]byte{'L', 'Z', '4', 'B', 'l', 'o', 'c', 'k', lz4MethodRaw | 10}
	bomb = append(bomb, end[:]...)
	if _, err := Open(bomb, Limits{}); !errors.Is(err, ErrLimit) {
		t.Fatalf("default limits: %v", err)
	}
	u, err := Open(bomb, Limits{MaxSize: 1 << 30, MaxRatio: -1})
	if !errors.Is(err, ErrUnknownForm) || len(u.Payload) != blocks*blockLen {
		t.Fatalf("no ratio cap: %d bytes, %v", len(u.Payload), err)
	}
}

// Real captures made by running Spark 4.x Masters (testdata/spark/generate.sh). Checks every
// record that exists; the captures are produced separately and may be absent.
func TestSparkCaptures(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/spark/4.*/filesystem-*/records")
	checked := 0
	for _, dir := range dirs {
		variant := strings.TrimPrefix(filepath.Base(filepath.Dir(dir)), "filesystem-")
		switch variant {
		case "lz4", "lzf", "snappy", "zstd", "kryo":
		default:
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			base := filepath.Base(f)
			if !strings.HasPrefix(base, "app_") && !strings.HasPrefix(base, "driver_") && !strings.HasPrefix(base, "worker_") {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			u, err := Open(data, Limits{})
			if variant == "kryo" {
				if !errors.Is(err, ErrKryo) || !strings.HasPrefix(u.KryoClass, "org.apache.spark.deploy.master.") {
					t.Errorf("%s: %v (class %q)", f, err, u.KryoClass)
				}
				continue
			}
			if err != nil || u.Codec.String() != variant || !bytes.HasPrefix(u.Payload, magicJava) {
				t.Errorf("%s: codec %v, payload % x, err %v", f, u.Codec, u.Payload[:min(4, len(u.Payload))], err)
			}
		}
	}
	if checked == 0 {
		t.Skip("no captures under testdata/spark/4.*/filesystem-{lz4,lzf,snappy,zstd,kryo}/records yet")
	}
	t.Logf("checked %d captured records", checked)
}

func TestCodecForm(t *testing.T) {
	for name, want := range map[string]Form{
		"lz4": FormLZ4, "LZF": FormLZF, " snappy ": FormSnappy, "zstd": FormZstd,
		"org.apache.spark.io.LZ4CompressionCodec": FormLZ4, "org.apache.spark.io.ZStdCompressionCodec": FormZstd,
		"org.apache.spark.io.SnappyCompressionCodec": FormSnappy, "org.apache.spark.io.LZFCompressionCodec": FormLZF,
	} {
		if f, ok := CodecForm(name); !ok || f != want {
			t.Errorf("CodecForm(%q) = %v, %v; want %v", name, f, ok, want)
		}
	}
	for _, name := range []string{"", "java", "kryo", "gzip", "org.apache.spark.io.Foo", "org.apache.spark.io.lz4"} {
		if f, ok := CodecForm(name); ok {
			t.Errorf("CodecForm(%q) = %v, want none", name, f)
		}
	}
}
