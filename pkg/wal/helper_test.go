package wal

const helperEnv = "WAL_TEST_HELPER"

func helperMain(role string) int { return 2 }
