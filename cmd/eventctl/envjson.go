package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

// localstackContainerEndpoint is LocalStack as a container on the compose network sees it: the
// compose service name (docker-compose.yml), for `sam local invoke --docker-network
// go-event-processor`.
const localstackContainerEndpoint = "http://localstack:4566"

// envEndpointVar is the variable every function declares for a local endpoint (Globals).
const envEndpointVar = "AWS_ENDPOINT_URL"

func envJSONCommand() *cobra.Command {
	var stack, endpoint, region, containerEndpoint, output, templatePath string
	cmd := &cobra.Command{
		Use:   "env-json --stack NAME [--endpoint URL] [--region R] [-o FILE]",
		Short: "Write env.json for `sam local invoke` from a deployed stack (LocalStack or AWS)",
		Long: `env-json reads a deployed stack's resources (CloudFormation ListStackResources) and writes SAM's
env.json: for every function of template.yaml, each environment variable it declares, with the
physical names of the deployment (a deploy names the table <stack>-EventsTable-<suffix>, not
EventsTable), so that ` + "`sam local invoke --env-vars env.json`" + ` reaches the deployed table and
functions.

--endpoint is LocalStack's URL as this host reaches it (http://localhost:4566); credentials are
then taken from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or are test/test, as samlocal does, so
that the stack is looked up in the account samlocal deployed it to. Without --endpoint the SDK's
configuration (profiles, SSO, AWS_ENDPOINT_URL) is used.

AWS_ENDPOINT_URL in env.json is where the function containers reach AWS: with --endpoint it
defaults to ` + localstackContainerEndpoint + ` (LocalStack's compose service name, for containers started
with --docker-network go-event-processor, on Linux and Docker Desktop); on Docker Desktop without
that network use --container-endpoint http://host.docker.internal:4566. Without --endpoint it is
left out, so the functions call AWS.`,
		Example: `  eventctl env-json --stack go-event-processor --endpoint http://localhost:4566
  eventctl env-json --stack go-event-processor --endpoint http://localhost:4566 --container-endpoint http://host.docker.internal:4566
  eventctl env-json --stack go-event-processor --region eu-west-1 -o env.aws.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stack == "" {
				return errors.New("--stack is required: the deployed stack's name (samconfig.toml stack_name: go-event-processor)")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			root, err := emulators.ToolsDir()
			if err != nil && (templatePath == "" || output == "") {
				return err
			}
			if templatePath == "" {
				templatePath = filepath.Join(root, "template.yaml")
			}
			if output == "" {
				output = filepath.Join(root, "env.json")
			}
			tpl, err := templatecheck.Load(templatePath)
			if err != nil {
				return err
			}
			client, resolvedRegion, err := cloudFormationClient(ctx, endpoint, region)
			if err != nil {
				return err
			}
			deployed, err := describeDeployedStack(ctx, client, stack)
			if err != nil {
				where := "region " + resolvedRegion
				if endpoint != "" {
					where += " at " + endpoint
				}
				return fmt.Errorf("%w (%s)", err, where)
			}
			if !cmd.Flags().Changed("container-endpoint") && endpoint != "" {
				containerEndpoint = localstackContainerEndpoint
			}
			env, err := envJSON(tpl, deployed, containerEndpoint)
			if err != nil {
				return err
			}
			data, err := json.MarshalIndent(env, "", "  ")
			if err != nil {
				return err
			}
			data = append(data, '\n')
			if output == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := writeFileAtomic(output, data); err != nil {
				return err
			}
			note := "AWS_ENDPOINT_URL left out: the functions call AWS"
			if containerEndpoint != "" {
				note = envEndpointVar + "=" + containerEndpoint
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d functions of stack %s (%s, %s); %s\n",
				output, len(env), deployed.Name, deployed.Status, resolvedRegion, note)
			return nil
		},
	}
	cmd.Flags().StringVar(&stack, "stack", "", "name of the deployed stack")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "CloudFormation endpoint, e.g. LocalStack's http://localhost:4566 (default: the SDK's configuration, i.e. AWS)")
	cmd.Flags().StringVar(&region, "region", "", "region of the stack (default: the SDK's configuration; us-east-1 with --endpoint)")
	cmd.Flags().StringVar(&containerEndpoint, "container-endpoint", "", "AWS_ENDPOINT_URL for the function containers (default "+localstackContainerEndpoint+" with --endpoint, none without)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write, - for stdout (default env.json in the repository)")
	cmd.Flags().StringVar(&templatePath, "template", "", "the SAM template whose functions' variables to fill (default template.yaml in the repository)")
	return cmd
}

// cloudFormationClient returns a CloudFormation client and its region. With an endpoint
// (LocalStack) the credentials are the environment's or test/test, as samlocal's: LocalStack
// derives the account from the access key, so this finds the stack samlocal created.
func cloudFormationClient(ctx context.Context, endpoint, region string) (*cloudformation.Client, string, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if endpoint != "" {
		id, secret, token := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
		if id == "" || secret == "" {
			id, secret, token = "test", "test", ""
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, token)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if endpoint == "" {
			return nil, "", errors.New("no region: give --region or set AWS_REGION (or a profile's region)")
		}
		cfg.Region = "us-east-1" // samconfig.toml [localstack.*] region
	}
	client := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	return client, cfg.Region, nil
}

// deployedStack is what env-json needs of a deployed stack.
type deployedStack struct {
	Name, ID, Status string
	// Parameters are the stack's parameter values by name.
	Parameters map[string]string
	// Resources are the stack's resources by logical id.
	Resources map[string]stackResource
}

// stackResource is one resource of a deployed stack.
type stackResource struct {
	Type, PhysicalID, Status string
}

// usableStackStatus are the states in which every resource of a stack exists as its template says.
var usableStackStatus = map[cfntypes.StackStatus]bool{
	cfntypes.StackStatusCreateComplete:         true,
	cfntypes.StackStatusUpdateComplete:         true,
	cfntypes.StackStatusUpdateRollbackComplete: true,
	cfntypes.StackStatusImportComplete:         true,
	cfntypes.StackStatusImportRollbackComplete: true,
}

// describeDeployedStack reads a stack's status, parameters and resources; a stack that is not
// complete (CREATE_FAILED, ROLLBACK_COMPLETE, still in progress) is an error naming its state.
func describeDeployedStack(ctx context.Context, client *cloudformation.Client, name string) (deployedStack, error) {
	out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return deployedStack{}, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) != 1 {
		return deployedStack{}, fmt.Errorf("describe stack %s: %d stacks answered", name, len(out.Stacks))
	}
	s := out.Stacks[0]
	d := deployedStack{Name: aws.ToString(s.StackName), ID: aws.ToString(s.StackId), Status: string(s.StackStatus),
		Parameters: map[string]string{}, Resources: map[string]stackResource{}}
	if !usableStackStatus[s.StackStatus] {
		reason := aws.ToString(s.StackStatusReason)
		if reason != "" {
			reason = ": " + reason
		}
		return d, fmt.Errorf("stack %s is %s%s; its failed resources are in `aws cloudformation describe-stack-events --stack-name %s`", name, s.StackStatus, reason, name)
	}
	for _, p := range s.Parameters {
		v := aws.ToString(p.ParameterValue)
		if p.ResolvedValue != nil {
			v = aws.ToString(p.ResolvedValue)
		}
		d.Parameters[aws.ToString(p.ParameterKey)] = v
	}
	pages := cloudformation.NewListStackResourcesPaginator(client, &cloudformation.ListStackResourcesInput{StackName: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return d, fmt.Errorf("list resources of stack %s: %w", name, err)
		}
		for _, r := range page.StackResourceSummaries {
			d.Resources[aws.ToString(r.LogicalResourceId)] = stackResource{
				Type: aws.ToString(r.ResourceType), PhysicalID: aws.ToString(r.PhysicalResourceId), Status: string(r.ResourceStatus)}
		}
	}
	return d, nil
}

// envJSON maps each function of tpl to the values its declared environment variables have in
// the deployed stack: SAM's env.json, {"LogicalId": {"VAR": "value"}}. AWS_ENDPOINT_URL is
// containerEndpoint, or left out when that is empty. A value env-json cannot resolve is an error
// that names the function and the variable.
func envJSON(tpl templatecheck.Template, stack deployedStack, containerEndpoint string) (map[string]map[string]string, error) {
	r := stackResolver{stack: stack}
	if a, err := arn.Parse(stack.ID); err == nil {
		r.partition, r.region, r.account = a.Partition, a.Region, a.AccountID
	}
	out := map[string]map[string]string{}
	var errs []error
	for _, f := range tpl.Functions() {
		if _, ok := stack.Resources[f.LogicalID]; !ok {
			errs = append(errs, fmt.Errorf("stack %s has no %s: was it deployed from this template?", stack.Name, f.LogicalID))
			continue
		}
		vars := map[string]string{}
		declared := tpl.EnvVars(f.LogicalID)
		names := make([]string, 0, len(declared))
		for name := range declared {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if name == envEndpointVar {
				if containerEndpoint != "" {
					vars[name] = containerEndpoint
				}
				continue
			}
			v, err := r.value(declared[name])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: %w", f.LogicalID, name, err))
				continue
			}
			vars[name] = v
		}
		out[f.LogicalID] = vars
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// stackResolver resolves the intrinsic functions of environment values against a deployed stack.
type stackResolver struct {
	stack                      deployedStack
	partition, region, account string
}

var subVariable = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r stackResolver) value(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, float64, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		for fn, arg := range x {
			switch fn {
			case "Ref":
				name, _ := arg.(string)
				return r.ref(name)
			case "Fn::GetAtt":
				parts, _ := arg.([]any)
				if len(parts) == 2 {
					id, _ := parts[0].(string)
					attr, _ := parts[1].(string)
					return r.getAtt(id, attr)
				}
			case "Fn::Sub":
				return r.sub(arg)
			}
		}
	}
	return "", fmt.Errorf("%v cannot be resolved from the stack's resources: set it in env.json by hand", v)
}

func (r stackResolver) ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return r.region, nil
	case "AWS::AccountId":
		return r.account, nil
	case "AWS::StackName":
		return r.stack.Name, nil
	case "AWS::StackId":
		return r.stack.ID, nil
	case "AWS::Partition":
		return r.partition, nil
	case "AWS::URLSuffix":
		if strings.HasPrefix(r.partition, "aws-cn") {
			return "amazonaws.com.cn", nil
		}
		return "amazonaws.com", nil
	}
	if res, ok := r.stack.Resources[name]; ok {
		if res.PhysicalID == "" {
			return "", fmt.Errorf("resource %s of stack %s has no physical id (status %s)", name, r.stack.Name, res.Status)
		}
		return res.PhysicalID, nil
	}
	if v, ok := r.stack.Parameters[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("stack %s has no resource or parameter %s", r.stack.Name, name)
}

// getAtt builds the ARN of a resource from its physical id; other attributes are not known.
func (r stackResolver) getAtt(id, attr string) (string, error) {
	name, err := r.ref(id)
	if err != nil {
		return "", err
	}
	if attr == "Arn" && r.account != "" {
		switch r.stack.Resources[id].Type {
		case "AWS::Lambda::Function":
			return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", r.partition, r.region, r.account, name), nil
		case "AWS::DynamoDB::Table":
			return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", r.partition, r.region, r.account, name), nil
		case "AWS::Kinesis::Stream":
			return fmt.Sprintf("arn:%s:kinesis:%s:%s:stream/%s", r.partition, r.region, r.account, name), nil
		case "AWS::SQS::Queue": // the physical id is the queue URL
			return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", r.partition, r.region, r.account, name[strings.LastIndex(name, "/")+1:]), nil
		}
	}
	return "", fmt.Errorf("Fn::GetAtt %s.%s (a %s) cannot be resolved from the stack's resources: set it in env.json by hand", id, attr, r.stack.Resources[id].Type)
}

// sub resolves Fn::Sub: "text ${Name} ${Name.Attr}" or [text, {Var: value}].
func (r stackResolver) sub(arg any) (string, error) {
	text, vars := "", map[string]string{}
	switch x := arg.(type) {
	case string:
		text = x
	case []any:
		if len(x) != 2 {
			return "", fmt.Errorf("Fn::Sub %v: want [text, variables]", arg)
		}
		text, _ = x[0].(string)
		m, _ := x[1].(map[string]any)
		for k, v := range m {
			s, err := r.value(v)
			if err != nil {
				return "", err
			}
			vars[k] = s
		}
	default:
		return "", fmt.Errorf("Fn::Sub %v: want a string or [text, variables]", arg)
	}
	var firstErr error
	out := subVariable.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return v
		}
		var v string
		var err error
		if id, attr, ok := strings.Cut(name, "."); ok {
			v, err = r.getAtt(id, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	return out, firstErr
}

// writeFileAtomic writes data to path through a temporary file in the same directory, so that
// a failed run never leaves half an env.json.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
