package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/queryapi"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// queryClient calls the query API with a tenant's key.
type queryClient struct {
	base, key string
	http      *http.Client
}

func (c *queryClient) get(cmd *cobra.Command, path string, params url.Values, into any) error {
	u := strings.TrimRight(c.base, "/") + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("query API at %s: %w (`eventctl local status` tells whether the local stack runs)", c.base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode != http.StatusOK {
		var e queryapi.Error
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			if e.Error.Parameter != "" {
				return fmt.Errorf("%d %s: %s %s", resp.StatusCode, e.Error.Code, e.Error.Parameter, e.Error.Message)
			}
			return fmt.Errorf("%d %s: %s", resp.StatusCode, e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("%d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, into)
}

// queryAPI returns the query API's base URL and the API key a command calls it with: --api, or
// the query API of the running local stack (--data-dir, GEP_DATA_DIR); --key, or GEP_API_KEY.
func queryAPI(api, key, stackDir string) (string, string, error) {
	if key == "" {
		key = os.Getenv("GEP_API_KEY")
	}
	if key == "" {
		return "", "", errors.New("an API key is required: --key or GEP_API_KEY (the local stack's keys are in api-keys.local.json)")
	}
	if api != "" {
		return api, key, nil
	}
	st, _, err := runningStack(stackDir)
	if err != nil {
		return "", "", fmt.Errorf("%w; or give --api", err)
	}
	api = st.APIEndpoints["QueryApi"]
	if api == "" && len(st.APIEndpoints) == 1 {
		for _, u := range st.APIEndpoints {
			api = u
		}
	}
	if api == "" {
		return "", "", errors.New("the running local stack serves no query API: give --api")
	}
	return api, key, nil
}

func queryCommand() *cobra.Command {
	var api, key, output, stackDir string
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Read events, accounts and quarantined records through the query API",
		Long: `query calls the query API (GET /events/{id}, /accounts/{id}, /accounts/{id}/events, /quarantine)
with an API key; the key decides the tenant, and a tenant sees only its own data.

By default it calls the API of the running ` + "`eventctl local up`" + `; --api points it anywhere
(the QueryApiUrl output of a deployed stack). Keys: --key or GEP_API_KEY; the local stack's keys
are in api-keys.local.json.

Output: a table for people, or -o json | ndjson | csv for export.`,
		Example: `  eventctl query events acc-00001 --key local-bank-a-key --type transaction --all -o csv
  eventctl query account acc-00001 --key local-bank-a-key
  eventctl query event gen-00000042-1a2b --key local-bank-a-key -o json
  eventctl query quarantine --key local-bank-a-key --from 2026-11-25T00:00:00Z`,
	}
	cmd.PersistentFlags().StringVar(&api, "api", "", "base URL of the query API (default: the running local stack's)")
	addDataDirFlag(cmd, &stackDir)
	cmd.PersistentFlags().StringVar(&key, "key", "", "API key (default $GEP_API_KEY)")
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "table", "table, json, ndjson or csv")
	client := func() (*queryClient, error) {
		switch output {
		case "table", "json", "ndjson", "csv":
		default:
			return nil, fmt.Errorf("--output %q: want table, json, ndjson or csv", output)
		}
		base, k, err := queryAPI(api, key, stackDir)
		if err != nil {
			return nil, err
		}
		return &queryClient{base: base, key: k, http: &http.Client{Timeout: 30 * time.Second}}, nil
	}

	var from, to, typ string
	var limit int
	var all bool
	events := &cobra.Command{
		Use:   "events <accountId>",
		Short: "An account's events, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			params := url.Values{}
			for k, v := range map[string]string{"from": from, "to": to, "type": typ} {
				if v != "" {
					params.Set(k, v)
				}
			}
			params.Set("limit", strconv.Itoa(limit))
			var rows []store.StoredEvent
			for {
				var page store.Page
				if err := c.get(cmd, "/accounts/"+url.PathEscape(args[0])+"/events", params, &page); err != nil {
					return err
				}
				rows = append(rows, page.Events...)
				if page.Cursor == "" || !all {
					if page.Cursor != "" && output == "table" {
						defer fmt.Fprintf(cmd.ErrOrStderr(), "more events: --all, or the cursor %s\n", page.Cursor)
					}
					break
				}
				params.Set("cursor", page.Cursor)
			}
			return writeEvents(cmd.OutOrStdout(), output, rows)
		},
	}
	events.Flags().StringVar(&from, "from", "", "RFC 3339 time: events at or after it")
	events.Flags().StringVar(&to, "to", "", "RFC 3339 time: events at or before it")
	events.Flags().StringVar(&typ, "type", "", "only this event type")
	events.Flags().IntVar(&limit, "limit", 50, "events per page (1-500)")
	events.Flags().BoolVar(&all, "all", false, "follow the cursor through every page")

	one := &cobra.Command{
		Use:   "event <id>",
		Short: "One event by id",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			var e store.StoredEvent
			if err := c.get(cmd, "/events/"+url.PathEscape(args[0]), nil, &e); err != nil {
				return err
			}
			return writeEvents(cmd.OutOrStdout(), output, []store.StoredEvent{e})
		},
	}
	acct := &cobra.Command{
		Use:   "account <accountId>",
		Short: "An account's state: frozen or not, blocked actions, monitoring level",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			var v store.AccountView
			if err := c.get(cmd, "/accounts/"+url.PathEscape(args[0]), nil, &v); err != nil {
				return err
			}
			if output != "table" {
				return writeJSON(cmd.OutOrStdout(), output, []any{v})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tFROZEN\tBLOCKED\tDECIDED BY\tMONITORING")
			fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\n", v.AccountID, v.Frozen, strings.Join(v.BlockedActions, ","), v.DecidedBy, v.MonitoringLevel)
			return tw.Flush()
		},
	}
	var qfrom, qto string
	quar := &cobra.Command{
		Use:   "quarantine",
		Short: "Records quarantined in a time range (default: the last 24 hours)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			params := url.Values{}
			if qfrom != "" {
				params.Set("from", qfrom)
			}
			if qto != "" {
				params.Set("to", qto)
			}
			var page queryapi.QuarantinePage
			if err := c.get(cmd, "/quarantine", params, &page); err != nil {
				return err
			}
			if output != "table" && output != "csv" {
				rows := make([]any, len(page.Records))
				for i, r := range page.Records {
					rows[i] = r
				}
				return writeJSON(cmd.OutOrStdout(), output, rows)
			}
			header := []string{"ARRIVAL", "CODE", "EVENT ID", "SHARD", "SEQUENCE", "REASON"}
			var table [][]string
			for _, r := range page.Records {
				table = append(table, []string{r.ArrivalTime, r.Code, r.EventID, r.ShardID, r.SequenceNumber, r.Reason})
			}
			return writeRows(cmd.OutOrStdout(), output, header, table)
		},
	}
	quar.Flags().StringVar(&qfrom, "from", "", "RFC 3339 time (default 24 hours before --to)")
	quar.Flags().StringVar(&qto, "to", "", "RFC 3339 time (default now)")
	cmd.AddCommand(events, one, acct, quar)
	return cmd
}

func writeEvents(w io.Writer, output string, rows []store.StoredEvent) error {
	if output == "json" || output == "ndjson" {
		list := make([]any, len(rows))
		for i, r := range rows {
			list[i] = r
		}
		return writeJSON(w, output, list)
	}
	header := []string{"TIME", "TYPE", "ID", "ACCOUNT", "BLOCKED BY"}
	if output == "csv" {
		header = append(header, "DATA")
	}
	var table [][]string
	for _, e := range rows {
		row := []string{e.Time, e.Type, e.ID, e.AccountID, e.BlockedBy}
		if output == "csv" {
			data, _ := json.Marshal(e.Data)
			row = append(row, string(data))
		}
		table = append(table, row)
	}
	return writeRows(w, output, header, table)
}

func writeJSON(w io.Writer, output string, rows []any) error {
	enc := json.NewEncoder(w)
	if output == "ndjson" {
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	enc.SetIndent("", "  ")
	if len(rows) == 1 {
		return enc.Encode(rows[0])
	}
	return enc.Encode(rows)
}

func writeRows(w io.Writer, output string, header []string, rows [][]string) error {
	if output == "csv" {
		cw := csv.NewWriter(w)
		_ = cw.Write(header)
		_ = cw.WriteAll(rows)
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
