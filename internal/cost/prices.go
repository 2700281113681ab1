// Package cost turns what a run of the pipeline measured (events, records, Lambda invocations and
// billed durations, DynamoDB requests and the units they consumed, Kinesis shards) into US dollars
// per million events at AWS list prices, broken down by service and billed item, and applies the
// same model to the prototype's design (batch size 1, one invocation and one PutItem per event) so
// that the two can be compared.
//
// The model is deliberately small: every figure is a quantity of one billed unit times that unit's
// list price, divided by the number of valid events and scaled to one million. Free tiers, storage,
// logs, tracing and data transfer are left out. docs/cost-model.md gives the prices' sources, the
// formulas and the assumptions.
package cost

// List prices in US dollars, region us-east-1 (US East, N. Virginia), checked on PricesChecked.
// Each is written the way AWS publishes it; docs/cost-model.md names the page each comes from.
const (
	// PricesChecked is the day the prices below were last checked against their sources.
	PricesChecked = "2026-11-26"

	// LambdaArm64USDPerGBSecond is Lambda's duration price on arm64 for the first 7.5 billion
	// GB-seconds of a month (the first tier; our volumes stay in it).
	LambdaArm64USDPerGBSecond = 0.0000133334
	// LambdaUSDPerMillionRequests is Lambda's request price (the same on x86_64 and arm64).
	LambdaUSDPerMillionRequests = 0.20

	// DynamoDBOnDemandUSDPerMillionWRU is the on-demand price of a million write request units,
	// after the price cut of 1 November 2024 (on-demand throughput halved, from 1.25).
	DynamoDBOnDemandUSDPerMillionWRU = 0.625
	// DynamoDBOnDemandUSDPerMillionRRU is the on-demand price of a million read request units,
	// after the same cut (from 0.25).
	DynamoDBOnDemandUSDPerMillionRRU = 0.125

	// KinesisProvisionedUSDPerShardHour is the provisioned-mode price of one shard for one hour,
	// busy or idle.
	KinesisProvisionedUSDPerShardHour = 0.015
	// KinesisUSDPerMillionPUTPayloadUnits is the provisioned-mode price of a million PUT payload
	// units (25 KB chunks of a record).
	KinesisUSDPerMillionPUTPayloadUnits = 0.014
)

// Billing granularities.
const (
	// WriteUnitBytes is the item size one write request unit covers: a standard write of an item
	// up to 1 KB takes 1 WRU, a transactional one 2 WRU; larger items take one more per started KB.
	WriteUnitBytes = 1024
	// ReadUnitBytes is the item size one read request unit covers: a strongly consistent read of
	// up to 4 KB takes 1 RRU, an eventually consistent one 0.5, a transactional one 2.
	ReadUnitBytes = 4096
	// PUTPayloadUnitBytes is the size of one Kinesis PUT payload unit: a record is billed one unit
	// per started 25 KB (a 5 KB record is 1 unit, a 45 KB record 2).
	PUTPayloadUnitBytes = 25 * 1024
	// ShardWriteRecordsPerSecond and ShardWriteBytesPerSecond are one provisioned shard's write
	// capacity (1,000 records or 1 MB per second).
	ShardWriteRecordsPerSecond = 1000
	ShardWriteBytesPerSecond   = 1 << 20
)

// Prices holds the price of one of each billed unit, in US dollars. The model takes them as a
// value so that tests can use round numbers and a reader can try other regions or tiers.
type Prices struct {
	LambdaGBSecond   float64 `json:"lambdaGBSecond"`   // one GB-second of Lambda duration
	LambdaRequest    float64 `json:"lambdaRequest"`    // one Lambda invocation
	DynamoDBWRU      float64 `json:"dynamoDBWRU"`      // one on-demand write request unit
	DynamoDBRRU      float64 `json:"dynamoDBRRU"`      // one on-demand read request unit
	KinesisShardHour float64 `json:"kinesisShardHour"` // one provisioned shard for one hour
	KinesisPUTUnit   float64 `json:"kinesisPUTUnit"`   // one PUT payload unit
}

// USEast1 is the list prices above, per unit.
var USEast1 = Prices{
	LambdaGBSecond:   LambdaArm64USDPerGBSecond,
	LambdaRequest:    LambdaUSDPerMillionRequests / 1e6,
	DynamoDBWRU:      DynamoDBOnDemandUSDPerMillionWRU / 1e6,
	DynamoDBRRU:      DynamoDBOnDemandUSDPerMillionRRU / 1e6,
	KinesisShardHour: KinesisProvisionedUSDPerShardHour,
	KinesisPUTUnit:   KinesisUSDPerMillionPUTPayloadUnits / 1e6,
}
