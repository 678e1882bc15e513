"""`bench mcp`'s way into the MCP server: the SDK is an optional extra.

The server module imports the `mcp` SDK at the top; this one imports it only when asked,
so the core install (and `import benchstone.api`) never needs it, and a missing extra is
one error line that says what to install.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchstone.api._errors import ApiError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

INSTALL_HINT = "pip install 'benchstone[mcp]'"


def mcp_server(home: Path | None = None) -> MCPServer:
    """The benchstone MCP server (tools over the store at ``home``), not yet running."""
    try:
        from benchstone.api._mcp_server import build_server
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "mcp":
            raise
        raise ApiError(
            f"the MCP server needs the Python MCP SDK (package mcp), which is not installed; "
            f"install the extra: {INSTALL_HINT}"
        ) from None
    return build_server(home)


def serve_mcp(home: Path | None = None) -> None:
    """Serve the tools over stdio (JSON-RPC on stdin/stdout) until the client hangs up."""
    mcp_server(home).run("stdio")
