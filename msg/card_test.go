package msg

import "testing"

func TestTapRoundTrip(t *testing.T) {
	tap := Tap{Ref: Ref{Kind: RefDecision, ID: 4021}, Verb: VerbApprove}
	if got, err := ParseTap(tap.String()); err != nil || got != tap {
		t.Fatalf("ParseTap(%q) = %+v, %v", tap.String(), got, err)
	}
	for _, bad := range []string{"", "d/12", "d/0/sign", "d/x/sign", "/12/sign", "d/12/", "d/12/sign/more", "d/99999999999/sign"} {
		if got, err := ParseTap(bad); err == nil {
			t.Errorf("ParseTap(%q) = %+v, want an error", bad, got)
		}
	}
}
