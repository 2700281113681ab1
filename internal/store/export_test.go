package store

// ItemSize is itemSize, for the black-box tests: an item's size as DynamoDB counts it.
var ItemSize = itemSize
