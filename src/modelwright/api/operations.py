"""Every operation of the platform, grouped by concept."""

from __future__ import annotations

from modelwright.access import models as access
from modelwright.api import (
    alerts,
    data,
    endpoints,
    gc,
    jobs,
    labels,
    monitors,
    pipelines,
    promotions,
    registry,
    retrain,
    rollouts,
    tracking,
)
from modelwright.api.operation import Operation
from modelwright.audit import models as audit
from modelwright.core.models import Empty
from modelwright.core.pages import Page
from modelwright.setup import models as setup
from modelwright.setup.spec import PlatformSpec
from modelwright.workspaces import models as ws

V1 = "/api/v1"

# -- workspaces ---------------------------------------------------------------------------------
LIST_WORKSPACES = Operation(
    "list_workspaces",
    "GET",
    f"{V1}/workspaces",
    ws.ListWorkspaces,
    Page[ws.WorkspaceInfo],
    "modelwright.workspaces.service:list_workspaces",
    "List the workspaces the caller has a grant in",
    "workspaces",
)
GET_WORKSPACE = Operation(
    "get_workspace",
    "GET",
    f"{V1}/workspaces/{{workspace}}",
    ws.WorkspaceRef,
    ws.WorkspaceInfo,
    "modelwright.workspaces.service:get_workspace_info",
    "Show a workspace with its environments and datastores",
    "workspaces",
)
CREATE_WORKSPACE = Operation(
    "create_workspace",
    "POST",
    f"{V1}/workspaces",
    ws.CreateWorkspace,
    ws.WorkspaceInfo,
    "modelwright.workspaces.service:create_workspace",
    "Create a workspace (default environments dev → staging → prod)",
    "workspaces",
    status=201,
)
ENSURE_DEFAULT_WORKSPACE = Operation(
    "ensure_default_workspace",
    "POST",
    f"{V1}/default-workspace",
    Empty,
    ws.WorkspaceInfo,
    "modelwright.workspaces.service:ensure_default_workspace",
    "The 'default' workspace, made (by a platform admin who sees no workspace) with the "
    "platform's own datastore paths if it does not exist yet",
    "workspaces",
    idempotent=True,
)
DELETE_WORKSPACE = Operation(
    "delete_workspace",
    "DELETE",
    f"{V1}/workspaces/{{workspace}}",
    ws.WorkspaceRef,
    ws.WorkspaceInfo,
    "modelwright.workspaces.service:delete_workspace",
    "Delete a workspace and its grants",
    "workspaces",
)
CREATE_ENVIRONMENT = Operation(
    "create_environment",
    "POST",
    f"{V1}/workspaces/{{workspace}}/environments",
    ws.CreateEnvironment,
    ws.WorkspaceInfo,
    "modelwright.workspaces.service:create_environment",
    "Append an environment to the promotion path",
    "workspaces",
    status=201,
)
CREATE_DATASTORE = Operation(
    "create_datastore",
    "POST",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/datastores",
    ws.CreateDatastore,
    ws.DatastoreInfo,
    "modelwright.workspaces.service:create_datastore",
    "Attach a datastore to an environment",
    "workspaces",
    status=201,
)
DELETE_DATASTORE = Operation(
    "delete_datastore",
    "DELETE",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/datastores/{{datastore}}",
    ws.DatastoreRef,
    ws.DatastoreInfo,
    "modelwright.workspaces.service:delete_datastore",
    "Detach a datastore from an environment",
    "workspaces",
)

# -- access -------------------------------------------------------------------------------------
WHOAMI = Operation(
    "whoami",
    "GET",
    f"{V1}/whoami",
    Empty,
    access.WhoAmI,
    "modelwright.access.service:whoami",
    "The calling principal and its grants",
    "access",
)
LIST_PRINCIPALS = Operation(
    "list_principals",
    "GET",
    f"{V1}/principals",
    access.ListPrincipals,
    Page[access.PrincipalInfo],
    "modelwright.access.service:list_principals",
    "List users and service accounts",
    "access",
)
CREATE_PRINCIPAL = Operation(
    "create_principal",
    "POST",
    f"{V1}/principals",
    access.CreatePrincipal,
    access.PrincipalInfo,
    "modelwright.access.service:create_principal",
    "Create a user or service account",
    "access",
    status=201,
)
DELETE_PRINCIPAL = Operation(
    "delete_principal",
    "DELETE",
    f"{V1}/principals/{{principal}}",
    access.DeletePrincipal,
    access.PrincipalInfo,
    "modelwright.access.service:delete_principal",
    "Delete a principal",
    "access",
)
LIST_ROLES = Operation(
    "list_roles",
    "GET",
    f"{V1}/roles",
    access.ListRoles,
    Page[access.RoleInfo],
    "modelwright.access.service:list_roles",
    "List roles and their actions",
    "access",
)
CREATE_ROLE = Operation(
    "create_role",
    "POST",
    f"{V1}/roles",
    access.CreateRole,
    access.RoleInfo,
    "modelwright.access.service:create_role",
    "Create a custom role",
    "access",
    status=201,
)
LIST_GRANTS = Operation(
    "list_grants",
    "GET",
    f"{V1}/grants",
    access.ListGrants,
    Page[access.GrantInfo],
    "modelwright.access.service:list_grants",
    "List grants visible to the caller",
    "access",
)
CREATE_GRANT = Operation(
    "create_grant",
    "POST",
    f"{V1}/grants",
    access.GrantRequest,
    access.GrantInfo,
    "modelwright.access.service:create_grant",
    "Grant a role to a principal in a workspace and environment",
    "access",
    status=201,
)
DELETE_GRANT = Operation(
    "delete_grant",
    "POST",
    f"{V1}/grants/delete",
    access.GrantRequest,
    access.GrantInfo,
    "modelwright.access.service:delete_grant",
    "Remove a grant",
    "access",
)
CREATE_TOKEN = Operation(
    "create_token",
    "POST",
    f"{V1}/tokens",
    access.CreateToken,
    access.TokenCreated,
    "modelwright.access.service:create_token",
    "Create an API token (the secret is returned once)",
    "access",
    status=201,
)
LIST_TOKENS = Operation(
    "list_tokens",
    "GET",
    f"{V1}/tokens",
    access.ListTokens,
    Page[access.TokenInfo],
    "modelwright.access.service:list_tokens",
    "List API tokens (never their secrets)",
    "access",
)
REVOKE_TOKEN = Operation(
    "revoke_token",
    "POST",
    f"{V1}/tokens/{{token_id}}/revoke",
    access.RevokeToken,
    access.TokenInfo,
    "modelwright.access.service:revoke_token",
    "Revoke an API token",
    "access",
)
CHECK_ACCESS = Operation(
    "check_access",
    "GET",
    f"{V1}/access/check",
    access.CheckAccess,
    access.AccessDecision,
    "modelwright.access.service:check_access",
    "Whether a principal may perform an action in an environment",
    "access",
)

# -- audit --------------------------------------------------------------------------------------
LIST_AUDIT_EVENTS = Operation(
    "list_audit_events",
    "GET",
    f"{V1}/audit",
    audit.AuditQuery,
    Page[audit.AuditEventInfo],
    "modelwright.audit.service:list_events",
    "Query the audit trail (newest first)",
    "audit",
)

# -- setup as code ------------------------------------------------------------------------------
APPLY_PLATFORM = Operation(
    "apply_platform",
    "POST",
    f"{V1}/platform/apply",
    setup.ApplyRequest,
    setup.Plan,
    "modelwright.setup.service:apply_platform",
    "Plan, and unless dry_run apply, a platform spec",
    "setup",
)
EXPORT_PLATFORM = Operation(
    "export_platform",
    "GET",
    f"{V1}/platform/export",
    Empty,
    PlatformSpec,
    "modelwright.setup.service:export_platform",
    "The current state as a platform spec",
    "setup",
)

OPERATIONS: tuple[Operation, ...] = (  # type: ignore[type-arg]
    *(v for v in globals().values() if isinstance(v, Operation)),
    *tracking.OPERATIONS,
    *data.OPERATIONS,
    *registry.OPERATIONS,
    *pipelines.OPERATIONS,
    *endpoints.OPERATIONS,
    *jobs.OPERATIONS,
    *promotions.OPERATIONS,
    *rollouts.OPERATIONS,
    *monitors.OPERATIONS,
    *alerts.OPERATIONS,
    *labels.OPERATIONS,
    *retrain.OPERATIONS,
    *gc.OPERATIONS,
)
