module github.com/go-event-processor/go-event-processor

go 1.26.8

require github.com/invopop/validation v0.8.0

require (
	github.com/asaskevich/govalidator v0.0.0-20230301143203-a9d515a09cc2 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
)
