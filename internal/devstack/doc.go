// Package devstack runs the whole SAM application on one machine without Docker: it starts the
// emulators the project pins (kinesalite, DynamoDB Local), creates the resources template.yaml
// declares, serves the Lambda Invoke API for its functions (in process, or each function's
// bootstrap under the Lambda runtime interface emulator), and emulates the Kinesis event source
// mappings with the template's settings.
package devstack
