package event

// Internals for the black-box tests: the two decoding paths, to check they agree.
var (
	DecodeFast = decodeFast
	DecodeJSON = decodeJSON
)
