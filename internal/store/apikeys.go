package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// skAPIKey is the sort key of an API key item; its partition key is the key's SHA-256, so the
// table never holds a key itself.
const skAPIKey = "APIKEY"

func apiKeyPK(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "KEY#" + hex.EncodeToString(sum[:])
}

// PutAPIKey lets the holder of apiKey read tenant's data through the query API.
func (s *Store) PutAPIKey(ctx context.Context, apiKey, tenant string) error {
	if apiKey == "" || tenant == "" {
		return fmt.Errorf("an API key needs a key and a tenant")
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: apiKeyPK(apiKey)}, attrSK: &types.AttributeValueMemberS{Value: skAPIKey},
			"tenant": &types.AttributeValueMemberS{Value: tenant},
		},
	})
	if err != nil {
		return fmt.Errorf("store API key of tenant %s: %w", tenant, err)
	}
	return nil
}

// TenantOfKey returns the tenant an API key belongs to, or ErrNotFound.
func (s *Store) TenantOfKey(ctx context.Context, apiKey string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(apiKeyPK(apiKey), skAPIKey),
		ProjectionExpression: aws.String("tenant")})
	if err != nil {
		return "", fmt.Errorf("look up API key: %w", err)
	}
	t, ok := out.Item["tenant"].(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("API key: %w", ErrNotFound)
	}
	return t.Value, nil
}
