// Command story walks through Tributary end to end: it creates a faker
// connection and a sync of two of its entities, triggers a full-refresh run,
// watches it live to the end and prints its summary. It exits non-zero
// unless the run SUCCEEDED.
//
//	go run ./examples/story -addr 127.0.0.1:50051 -key "$(cat tributary-data/admin.key)"
//
// -addr and -key default to $TRIBUTARY_ADDR and $TRIBUTARY_API_KEY.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	tributary "github.com/tributary-dev/tributary/clients/go"
	tributaryv1 "github.com/tributary-dev/tributary/clients/go/tributary/v1"
)

func main() {
	addr := flag.String("addr", envOr("TRIBUTARY_ADDR", "127.0.0.1:50051"), "server host:port")
	key := flag.String("key", os.Getenv("TRIBUTARY_API_KEY"), "API key")
	useTLS := flag.Bool("tls", false, "connect with TLS (system roots) instead of plaintext")
	rows := flag.Int("rows", 2000, "rows per entity the faker source generates")
	rate := flag.Int("rows-per-second", 1000, "faker throttle, so the run lasts a while (0: unthrottled)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := story(ctx, *addr, *key, *useTLS, *rows, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "story:", err)
		os.Exit(1)
	}
}

func story(ctx context.Context, addr, key string, useTLS bool, rows, rate int) error {
	var opts []tributary.Option
	if !useTLS {
		opts = append(opts, tributary.WithPlaintext())
	}
	client, err := tributary.New(addr, key, opts...)
	if err != nil {
		return err
	}
	defer client.Close()

	config, err := structpb.NewStruct(map[string]any{"row_count": rows, "rows_per_second": rate})
	if err != nil {
		return err
	}
	conn, err := client.Connections.CreateConnection(ctx, &tributaryv1.CreateConnectionRequest{
		Name: "Story demo data", Provider: "faker", Config: config,
	})
	if err != nil {
		return fmt.Errorf("create connection: %w", err)
	}
	fmt.Printf("connection %s (%s)\n", conn.GetId(), conn.GetSlug())

	// A destination table belongs to one sync at a time, so each story
	// writes tables of its own (the default would be "users" and "orders").
	prefix := fmt.Sprintf("story_%d_", time.Now().UnixNano())
	sync, err := client.Syncs.CreateSync(ctx, &tributaryv1.CreateSyncRequest{
		Name:         "Story demo to warehouse",
		ConnectionId: conn.GetId(),
		Entities:     []string{"users", "orders"},
		TableBindings: []*tributaryv1.TableBinding{
			{EntityKey: "users", PhysicalTableName: prefix + "users"},
			{EntityKey: "orders", PhysicalTableName: prefix + "orders"},
		},
	})
	if err != nil {
		return fmt.Errorf("create sync: %w", err)
	}
	tables := []string{}
	for _, b := range sync.GetTableBindings() {
		tables = append(tables, b.GetEntityKey()+" -> "+b.GetPhysicalTableName())
	}
	fmt.Printf("sync %s: %s\n", sync.GetId(), strings.Join(tables, ", "))

	run, err := client.Syncs.TriggerSync(ctx, &tributaryv1.TriggerSyncRequest{
		SyncId: sync.GetId(), RunMode: tributaryv1.RunMode_RUN_MODE_FULL_REFRESH,
	})
	if err != nil {
		return fmt.Errorf("trigger sync: %w", err)
	}
	fmt.Printf("run %s triggered\n", run.GetId())

	w := client.WatchRun(ctx, run.GetId(), tributary.FollowAttempts())
	defer w.Close()
	for w.Next() {
		fmt.Println(" ", describe(w.Event()))
	}
	if err := w.Err(); err != nil {
		return fmt.Errorf("watch run: %w", err)
	}
	fmt.Printf("watch ended after %d resumed streams\n", w.Resumes())

	// The last attempt's record: the same run unless it was auto-resumed.
	run, err = client.Runs.GetRun(ctx, &tributaryv1.GetRunRequest{RunId: w.RunID()})
	if err != nil {
		return fmt.Errorf("get run: %w", err)
	}
	printSummary(run)
	if run.GetStatus() != tributaryv1.RunStatus_RUN_STATUS_SUCCEEDED {
		return errors.New("the run did not succeed")
	}
	return nil
}

// describe is one line per event.
func describe(ev *tributaryv1.RunEvent) string {
	switch e := ev.GetEvent().(type) {
	case *tributaryv1.RunEvent_Snapshot:
		return fmt.Sprintf("snapshot   run %s attempt %d is %s", e.Snapshot.GetId(), e.Snapshot.GetAttemptNumber(), e.Snapshot.GetStatus())
	case *tributaryv1.RunEvent_StatusChanged:
		s := e.StatusChanged
		line := fmt.Sprintf("#%-4d status %s -> %s", ev.GetSequence(), s.GetFrom(), s.GetTo())
		if s.Error != nil {
			line += ": " + s.GetError()
		}
		return line
	case *tributaryv1.RunEvent_Progress:
		p := e.Progress
		return fmt.Sprintf("#%-4d progress %s: %d read, %d written", ev.GetSequence(), p.GetEntityKey(), p.GetRecordsRead(), p.GetRecordsWritten())
	case *tributaryv1.RunEvent_Log:
		return fmt.Sprintf("#%-4d log %s %s", ev.GetSequence(), e.Log.GetLevel(), e.Log.GetMessage())
	case *tributaryv1.RunEvent_Heartbeat:
		return fmt.Sprintf("heartbeat  %d read, %d written so far", e.Heartbeat.GetRecordsRead(), e.Heartbeat.GetRecordsWritten())
	default:
		return fmt.Sprintf("#%-4d (an event kind this client does not know)", ev.GetSequence())
	}
}

func printSummary(run *tributaryv1.Run) {
	s := run.GetSummary()
	took := run.GetCompletedAt().AsTime().Sub(run.GetStartedAt().AsTime()).Round(time.Millisecond)
	fmt.Printf("run %s %s in %s: %d records read, %d written, %d bytes\n",
		run.GetId(), run.GetStatus(), took, s.GetRecordsRead(), s.GetRecordsWritten(), s.GetBytes())
	for _, e := range s.GetEntities() {
		fmt.Printf("  %-8s %6d read %6d written  cursor %q -> %q\n",
			e.GetEntityKey(), e.GetRecordsRead(), e.GetRecordsWritten(), e.GetCursorBefore(), e.GetCursorAfter())
	}
	if run.Error != nil {
		fmt.Printf("  error: %s\n", run.GetError())
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
