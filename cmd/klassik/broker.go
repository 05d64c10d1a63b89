package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/klassik/klassik/broker"
	"github.com/klassik/klassik/conf"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// multiFlag collects repeated --override key=value flags.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// newLogger writes JSON lines to stderr, or a human-readable console format when stderr is a
// terminal, at level info unless KLASSIK_LOG_LEVEL says otherwise (debug, info, warn, error).
func newLogger() zerolog.Logger {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	level := zerolog.InfoLevel
	if l, err := zerolog.ParseLevel(os.Getenv("KLASSIK_LOG_LEVEL")); err == nil && l != zerolog.NoLevel {
		level = l
	}
	if isatty.IsTerminal(os.Stderr.Fd()) {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"}).Level(level).With().Timestamp().Logger()
	}
	return zerolog.New(os.Stderr).Level(level).With().Timestamp().Logger()
}

func runBroker(args []string) int {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	configPath := fs.String("config", "", "path to server.toml")
	var overrides multiFlag
	fs.Var(&overrides, "override", "a property to override, key=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 1 && *configPath == "" { // kafka-server-start.sh takes the file as an argument
		*configPath = fs.Arg(0)
	}
	cfg, err := conf.Load(*configPath, os.Environ(), overrides)
	if err != nil {
		fmt.Fprintf(os.Stderr, "klassik broker: %v\n", err)
		return 2
	}
	logger := newLogger()
	logger.Info().Str("component", "broker").Int32("broker", cfg.BrokerID).Str("config", cfg.String()).Msg("configuration")

	b := broker.New(cfg, logger)
	if err := b.Start(); err != nil {
		logger.Error().Err(err).Int32("broker", cfg.BrokerID).Msg("broker failed to start")
		fmt.Fprintf(os.Stderr, "klassik broker: %v\n", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	var sig os.Signal
	select {
	case sig = <-sigs:
	case <-b.Fatal():
		// As Kafka halts when every log dir has failed: no controlled shutdown, exit non-zero.
		logger.Error().Err(b.FatalErr()).Int32("broker", cfg.BrokerID).Msg("fatal error; halting")
		fmt.Fprintf(os.Stderr, "klassik broker: %v\n", b.FatalErr())
		b.Halt()
		return 1
	}
	logger.Info().Int32("broker", cfg.BrokerID).Str("signal", sig.String()).Msg("signal received; shutting down")
	go func() {
		<-sigs
		logger.Warn().Msg("second signal: exiting now")
		os.Exit(1)
	}()
	b.Shutdown()
	return 0
}
