package connect

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// jacksonOracle builds the envelope as Kafka's JsonConverter does (asJsonSchema of
// Schema.STRING_SCHEMA, then "schema" and "payload" in an ObjectNode) and serializes it with
// Jackson's ObjectMapper as Kafka's JsonSerializer does. Each input line is a string as
// UTF-16 code units in hex; each output line is the serialized bytes in hex.
const jacksonOracle = `
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;

public class Envelope {
    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        JsonNodeFactory f = JsonNodeFactory.withExactBigDecimals(true);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i + 4 <= line.length(); i += 4) s.append((char) Integer.parseInt(line.substring(i, i + 4), 16));
            ObjectNode schema = f.objectNode().put("type", "string");
            schema.put("optional", false);
            ObjectNode env = f.objectNode();
            env.set("schema", schema);
            env.put("payload", s.toString());
            StringBuilder out = new StringBuilder();
            for (byte b : mapper.writeValueAsBytes(env)) out.append(String.format("%02x", b & 0xff));
            System.out.println(out);
        }
    }
}
`

// TestEnvelopeAgainstJackson compares the bytes of JsonConverter's envelope for strings full
// of what JSON escapes (controls, quotes, backslashes, <>&, U+2028, non-ASCII, emoji) with
// what Jackson writes (Debian's Jackson 2.14; Kafka 3.6 ships 2.13.5, which escapes alike).
// Skipped without a JDK and Debian's Jackson jars (libjackson2-*-java).
func TestEnvelopeAgainstJackson(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH")
	}
	if _, err := exec.LookPath("javac"); err != nil {
		t.Skip("no javac on PATH: java cannot run a source file")
	}
	var cp []string
	for _, j := range []string{"jackson-core", "jackson-databind", "jackson-annotations"} {
		p := "/usr/share/java/" + j + ".jar"
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no %s", p)
		}
		cp = append(cp, p)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "Envelope.java")
	if err := os.WriteFile(src, []byte(jacksonOracle), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := []string{"", "foo", `"quoted" \back\slash/`, "\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f", "<script>&amp;</script>",
		"\u2028\u2029", "données € 😀", "\uFFFD"}
	alphabet := []rune("a\"\\/\x00\x01\x1f\t\n\r\b\f<>&\u007f\u0080\u00e9\u2028\u20ac\U0001F600\uFFFD ")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		var b strings.Builder
		for range rng.IntN(20) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	var stdin bytes.Buffer
	for _, in := range inputs {
		for _, u := range utf16.Encode([]rune(in)) {
			fmt.Fprintf(&stdin, "%04x", u)
		}
		stdin.WriteByte('\n')
	}
	cmd := exec.Command(java, "-cp", strings.Join(cp, ":"), src)
	cmd.Stdin = &stdin
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
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	c := &JSONConverter{SchemasEnable: true}
	i := 0
	for ; sc.Scan(); i++ {
		want, err := hex.DecodeString(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.FromString(&inputs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%q: klassik writes %s, Kafka's JsonConverter %s", inputs[i], got, want)
		}
	}
	if i != len(inputs) {
		t.Fatalf("Jackson answered %d of %d inputs", i, len(inputs))
	}
}
