// The mock payment provider.
