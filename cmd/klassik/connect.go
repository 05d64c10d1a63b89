package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/klassik/klassik/connect"
	"github.com/klassik/klassik/internal/properties"
	"github.com/rs/zerolog"
)

const connectUsage = "Usage: ConnectStandalone worker.properties [connector1.properties connector2.properties ...]"

// clusterIDTimeout bounds the wait for the Kafka cluster at start, Kafka's default.api.timeout.ms.
const clusterIDTimeout = 60 * time.Second

// runConnectStandalone is `klassik connect-standalone WORKER.properties CONNECTOR.properties...`,
// Kafka's connect-standalone.sh (ConnectStandalone): the same arguments, the same exit codes
// (1 usage, 2 a worker that cannot start, 3 a connector that cannot be created), and a clean
// stop on SIGTERM or SIGINT that commits what was delivered; a second signal exits at once.
func runConnectStandalone(args []string) int {
	if len(args) < 1 || slices.Contains(args, "--help") || slices.Contains(args, "-h") {
		fmt.Fprintln(os.Stderr, connectUsage)
		return 1
	}
	log := newLogger().With().Str("component", "connect").Logger()
	fail := func(code int, msg string, err error) int {
		log.Error().Err(err).Msg(msg)
		fmt.Fprintf(os.Stderr, "klassik connect-standalone: %s: %v\n", msg, err)
		return code
	}
	log.Info().Msg("Kafka Connect worker initializing ...")
	start := time.Now()
	props, err := properties.Load(args[0])
	if err != nil {
		return fail(2, "Stopping due to error", err)
	}
	cfg, warnings, err := connect.ParseWorkerConfig(props.Map())
	if err != nil {
		return fail(2, "Stopping due to error", err)
	}
	for _, w := range warnings {
		log.Warn().Msg(w)
	}
	if cfg.PluginPath != "" {
		log.Info().Str("plugin.path", cfg.PluginPath).Msg("plugin.path is ignored: klassik's connectors (FileStreamSource, FileStreamSink) are built in")
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		sig := <-sigs
		log.Info().Str("signal", sig.String()).Msg("Kafka Connect stopping")
		cancel()
		<-sigs
		log.Warn().Msg("second signal: exiting now")
		os.Exit(1)
	}()

	rest, err := connect.NewRESTServer(cfg.Listeners, log)
	if err != nil {
		return fail(2, "Stopping due to error", err)
	}
	addrs := rest.Addrs()
	workerID := connect.WorkerID(cfg, addrs[0].(*net.TCPAddr).Port)
	for _, a := range addrs {
		log.Info().Str("listener", a.String()).Msgf("REST server listening at http://%s/, advertising URL http://%s/", a, workerID)
	}
	lookupCtx, lookupDone := context.WithTimeout(ctx, clusterIDTimeout)
	clusterID, err := connect.LookupClusterID(lookupCtx, cfg)
	lookupDone()
	if err != nil {
		rest.Shutdown(context.Background())
		return fail(2, "Stopping due to error", err)
	}
	log.Info().Str("cluster", clusterID).Msgf("Kafka cluster ID: %s", clusterID)
	log.Info().Str("file", cfg.OffsetFile).Msgf("Starting FileOffsetBackingStore with file %s", cfg.OffsetFile)
	store, err := connect.OpenOffsetStore(cfg.OffsetFile)
	if err != nil {
		rest.Shutdown(context.Background())
		return fail(3, "Failed to start Connect", err)
	}
	w := connect.NewWorker(cfg, workerID, clusterID, store, log)
	rest.Serve(w)
	log.Info().Int64("ms", time.Since(start).Milliseconds()).Msgf("Kafka Connect worker initialization took %dms", time.Since(start).Milliseconds())
	log.Info().Str("worker_id", workerID).Msg("Kafka Connect started")

	stop := func() {
		w.Stop()
		shutCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
		rest.Shutdown(shutCtx)
		done()
		log.Info().Msg("Kafka Connect stopped")
	}
	for _, path := range args[1:] {
		if err := addConnector(w, cfg, path, log); err != nil {
			log.Error().Str("file", path).Msgf("Failed to create connector for %s", path)
			stop()
			return fail(3, "Stopping after connector error", err)
		}
	}
	<-ctx.Done()
	stop()
	return 0
}

func addConnector(w *connect.Worker, cfg *connect.WorkerConfig, path string, log zerolog.Logger) error {
	props, err := properties.Load(path)
	if err != nil {
		return err
	}
	cc, err := connect.ParseConnectorConfig(props.Map(), cfg)
	if err != nil {
		return err
	}
	log.Info().Str("connector", cc.Name).Str("class", cc.Class).Msgf("Creating connector %s of type %s", cc.Name, props.Map()["connector.class"])
	if err := w.AddConnector(cc); err != nil {
		return err
	}
	log.Info().Str("connector", cc.Name).Msgf("Created connector %s", cc.Name)
	return nil
}
