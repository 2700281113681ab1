package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

// stsTimeout bounds the GetCallerIdentity that names the AWS account before a send to AWS.
const stsTimeout = 5 * time.Second

// sendTarget decides where send puts records and returns the client and the line that says so
// ("target: …"), after checking the target answers:
//
//   - a named data directory (--data-dir, $GEP_DATA_DIR): the local stack there, nothing else;
//   - --aws: AWS with the SDK's default configuration, its account named by STS;
//   - an exported AWS_ENDPOINT_URL_KINESIS (or AWS_ENDPOINT_URL): that endpoint;
//   - else the local stack in the default data directory; when none runs, an error: send never
//     writes to AWS unless told to.
func sendTarget(ctx context.Context, flag string, useAWS bool, stream string) (*kinesis.Client, string, error) {
	dir, named, err := resolveDataDir(flag)
	if err != nil {
		return nil, "", err
	}
	if named {
		if useAWS {
			source := "--data-dir"
			if flag == "" {
				source = envDataDir + " (exported)"
			}
			return nil, "", fmt.Errorf("--aws sends to AWS, but %s names the local stack in %s: give one of them (unset %s to send to AWS)", source, dir, envDataDir)
		}
		st, err := checkStack(ctx, dir, flag)
		if err != nil {
			return nil, "", err
		}
		return emulators.KinesisClient(st.KinesisEndpoint), localTargetLine(dir, st, stream), nil
	}
	if useAWS {
		return awsTarget(ctx, stream)
	}
	if name, url := exportedEndpoint("KINESIS"); url != "" {
		pctx, cancel := context.WithTimeout(ctx, devstack.ProbeTimeout)
		defer cancel()
		if err := devstack.Probe(pctx, url); err != nil {
			return nil, "", exportedDead(name, url, err)
		}
		if st, err := devstack.ReadState(dir); err == nil && devstack.Running(st) && st.KinesisEndpoint == url {
			return emulators.KinesisClient(url), localTargetLine(dir, st, stream) + ", through " + name, nil
		}
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("%s=%s: the AWS configuration does not load: %w", name, url, err)
		}
		if cfg.Region == "" {
			cfg.Region = devstack.Region
		}
		return kinesis.NewFromConfig(cfg), fmt.Sprintf("target: %s=%s (region %s), stream %s", name, url, cfg.Region, stream), nil
	}
	st, err := checkStack(ctx, dir, "")
	if errors.Is(err, devstack.ErrNotRunning) {
		return nil, "", fmt.Errorf("%w; send writes to AWS only with --aws", err)
	}
	if err != nil {
		return nil, "", err
	}
	return emulators.KinesisClient(st.KinesisEndpoint), localTargetLine(dir, st, stream), nil
}

// localTargetLine names a local stack as a target.
func localTargetLine(dir string, st devstack.State, stream string) string {
	return fmt.Sprintf("target: local stack in %s (pid %d, stream %s, Kinesis %s)", dir, st.PID, stream, st.KinesisEndpoint)
}

// awsTarget is AWS with the SDK's default configuration: the account (STS GetCallerIdentity),
// region and credential source are named before anything is sent.
func awsTarget(ctx context.Context, stream string) (*kinesis.Client, string, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("--aws: the AWS configuration does not load: %w", err)
	}
	if cfg.Region == "" {
		return nil, "", errors.New("--aws: no AWS region: set AWS_REGION (or AWS_PROFILE with a region)")
	}
	client := kinesis.NewFromConfig(cfg)
	if name, url := exportedEndpoint("KINESIS"); url != "" {
		return client, fmt.Sprintf("target: %s=%s from the AWS configuration (region %s), stream %s", name, url, cfg.Region, stream), nil
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("--aws: no AWS credentials: %w", err)
	}
	source := creds.Source
	if source == "" {
		source = "the default chain"
	}
	sctx, cancel := context.WithTimeout(ctx, stsTimeout)
	defer cancel()
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(sctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, "", fmt.Errorf("--aws: the AWS credentials (%s, region %s) do not work: STS GetCallerIdentity: %w", source, cfg.Region, err)
	}
	return client, fmt.Sprintf("target: AWS account %s in %s (credentials %s, %s), stream %s",
		aws.ToString(id.Account), cfg.Region, source, aws.ToString(id.Arn), stream), nil
}

// exportedEndpoint returns the endpoint the SDK takes from the environment for a service
// (AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL), with the variable's name.
func exportedEndpoint(service string) (name, url string) {
	if strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return "", ""
	}
	for _, name := range []string{"AWS_ENDPOINT_URL_" + service, "AWS_ENDPOINT_URL"} {
		if url := os.Getenv(name); url != "" {
			return name, url
		}
	}
	return "", ""
}

// exportedDead is the error of an exported endpoint that does not answer.
func exportedDead(name, url string, err error) error {
	return fmt.Errorf("%s=%s does not answer (%v): the stack that printed it is gone (`eventctl local status` tells); "+
		"start one with `eventctl local up -d` and eval \"$(eventctl local env)\", or unset %s", name, url, err, name)
}

// announceLocalTarget wraps cmd's PreRunE so that, before the command runs, the local stack it
// works on is checked and named on stderr ("target: local stack in …"). Commands that only work
// on the local stack (redrive) get it from root.
func announceLocalTarget(cmd *cobra.Command) *cobra.Command {
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(c, args); err != nil {
				return err
			}
		}
		flag, _ := c.Flags().GetString("data-dir")
		dir, _, err := resolveDataDir(flag)
		if err != nil {
			return err
		}
		st, err := checkStack(c.Context(), dir, flag)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("target: local stack in %s (pid %d", dir, st.PID)
		for _, f := range []string{"stream", "table"} {
			if v, err := c.Flags().GetString(f); err == nil && v != "" {
				line += fmt.Sprintf(", %s %s", f, v)
			}
		}
		fmt.Fprintln(c.ErrOrStderr(), line+")")
		return nil
	}
	return cmd
}
