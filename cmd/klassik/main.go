// Command klassik is the one klassik binary: `klassik broker` runs a broker, and the other
// subcommands are Kafka's command-line tools under their Kafka names (kafka-topics.sh becomes
// `klassik topics`), taking Kafka's flags.
package main

import (
	"fmt"
	"os"

	"github.com/klassik/klassik/cmd/klassik/tools"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string) int
}

var commands []command

func usage() {
	fmt.Fprintf(os.Stderr, "usage: klassik <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-20s %s\n", c.name, c.summary)
	}
}

func main() {
	commands = []command{{"broker", "run a broker: klassik broker --config server.toml [--override key=value ...]", runBroker},
		{"ui", "the classroom page: klassik ui --zookeeper H:P/chroot --bootstrap-server B --listen 127.0.0.1:8080", runUI},
		{"scenario", "the classroom's guided faults: klassik scenario list | run NAME --zookeeper H:P/chroot --bootstrap-server B", runScenario},
		{"connect-standalone", "Kafka Connect, standalone: klassik connect-standalone WORKER.properties CONNECTOR.properties... (connect-standalone.sh)", runConnectStandalone}}
	for _, t := range tools.Commands() {
		commands = append(commands, command{t.Name, t.Summary, func(args []string) int {
			return t.Run(args, os.Stdin, os.Stdout, os.Stderr)
		}})
	}
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	for _, c := range commands {
		if c.name == os.Args[1] {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	fmt.Fprintf(os.Stderr, "klassik: unknown command %q\n\n", os.Args[1])
	usage()
	os.Exit(2)
}
