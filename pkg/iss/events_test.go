package iss

import (
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

func TestOrdererIDRoundTrip(t *testing.T) {
	id := OrdererID("ordering", 12, 3)
	if id != "ordering/12.3" {
		t.Fatalf("OrdererID = %q, want ordering/12.3", id)
	}
	e, s, ok := ParseOrdererName("12.3")
	if !ok || e != 12 || s != 3 {
		t.Fatalf("ParseOrdererName(12.3) = %d, %d, %v", e, s, ok)
	}
	for _, bad := range []stdtypes.ModuleID{"", "12", "12.", ".3", "012.3", "12.03", "+1.2", "1.-2", "1.2.3", "18446744073709551616.0", "1.2147483648", "a.b"} {
		if _, _, ok := ParseOrdererName(bad); ok {
			t.Errorf("ParseOrdererName(%q) accepted", bad)
		}
	}
}
