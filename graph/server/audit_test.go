package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// auditDir holds the Node.js package that runs graphql-http's server audits (testdata/audit/audit.mjs).
const auditDir = "testdata/audit"

// TestGraphQLOverHTTPAudit runs every GraphQL-over-HTTP audit of the npm package graphql-http
// (serverAudits) against the real handler; MUST, SHOULD and MAY audits must all pass. It needs
// node and npm; node_modules is installed with npm ci from the lock file when it is missing.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required for the GraphQL-over-HTTP audit (install Node.js >= 18): %v", err)
	}
	if _, err := os.Stat(filepath.Join(auditDir, "node_modules", "graphql-http", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("npm is required to install %s/node_modules for the GraphQL-over-HTTP audit: %v", auditDir, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = auditDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s failed: %v\n%s", auditDir, err, out)
		}
	}

	srv := nbsServer(t)
	// audit.mjs gives up by itself after 60 s; this bounds a hung node process.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "audit.mjs", srv.URL+"/graphql")
	cmd.Dir = auditDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("GraphQL-over-HTTP audit failed (%v):\n%s", err, out)
	}
	t.Logf("GraphQL-over-HTTP audit:\n%s", out)
}
