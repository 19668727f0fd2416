package trantor

import "github.com/mirframework/mir/pkg/trantor/client"

// Executed is the event the application module emits for each slot it
// applies, to the client server (AppModuleConfig.Clients), which sends
// each result to its client. It is defined in package client, whose
// server takes it, and recorded under the name "trantor.Executed".
type Executed = client.Executed
