package properties

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// oracle is a Java program that loads each file named on its command line with
// java.util.Properties.load(InputStream), exactly as Kafka's Utils.loadProps does, and prints
// "FILE i", then one line per key, its key and value as UTF-16 code units in hex, or
// "ERROR" if load threw.
const oracle = `
import java.io.FileInputStream;
import java.util.Properties;

public class Oracle {
    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) b.append(String.format("%04x", (int) c));
        return b.toString();
    }
    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            System.out.println("FILE " + i);
            Properties p = new Properties();
            try (FileInputStream in = new FileInputStream(args[i])) {
                p.load(in);
            } catch (IllegalArgumentException e) {
                System.out.println("ERROR");
                continue;
            }
            for (String k : p.stringPropertyNames()) System.out.println(hex(k) + " " + hex(p.getProperty(k)));
        }
    }
}
`

func unhex(t *testing.T, s string) string {
	var units []uint16
	for i := 0; i+4 <= len(s); i += 4 {
		u, err := strconv.ParseUint(s[i:i+4], 16, 16)
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, uint16(u))
	}
	return string(utf16.Decode(units))
}

// TestAgainstJava runs the table of cases and random inputs over the characters that matter
// (separators, blanks, backslashes, line ends, comment marks, hex digits) through a real
// java.util.Properties and requires the same keys and values, or an error where Java throws.
// Inputs are ASCII: for other bytes this package reads UTF-8 where Java reads ISO-8859-1, on
// purpose (see the package doc). Skipped where no JDK is installed.
func TestAgainstJava(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH")
	}
	if _, err := exec.LookPath("javac"); err != nil {
		t.Skip("no javac on PATH: java cannot run a source file")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Oracle.java"), []byte(oracle), 0o644); err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, c := range cases {
		inputs = append(inputs, c.in)
	}
	const alphabet = "ab=: \\\\\\\n\r#!\t\fu0Fe"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 400 {
		n := rng.IntN(40)
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	var args []string
	args = append(args, filepath.Join(dir, "Oracle.java"))
	for i, in := range inputs {
		p := filepath.Join(dir, fmt.Sprintf("in-%d.properties", i))
		if err := os.WriteFile(p, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	cmd := exec.Command(java, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	timer := time.AfterFunc(2*time.Minute, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, stderr.String())
	}
	javaSays := make([]map[string]string, len(inputs)) // nil: Java threw
	cur := -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "FILE "):
			cur, _ = strconv.Atoi(strings.TrimPrefix(line, "FILE "))
			javaSays[cur] = map[string]string{}
		case line == "ERROR":
			javaSays[cur] = nil
		default:
			k, v, _ := strings.Cut(line, " ")
			javaSays[cur][unhex(t, k)] = unhex(t, v)
		}
	}
	if cur != len(inputs)-1 {
		t.Fatalf("java answered for %d of %d inputs", cur+1, len(inputs))
	}
	for i, in := range inputs {
		p, err := Parse([]byte(in))
		switch {
		case javaSays[i] == nil && err == nil:
			t.Errorf("input %q: Java throws, Parse gives %q", in, p.Map())
		case javaSays[i] != nil && err != nil:
			t.Errorf("input %q: Java gives %q, Parse fails: %v", in, javaSays[i], err)
		case err == nil && !maps.Equal(p.Map(), javaSays[i]):
			t.Errorf("input %q: Java gives %q, Parse gives %q", in, javaSays[i], p.Map())
		}
	}
}
