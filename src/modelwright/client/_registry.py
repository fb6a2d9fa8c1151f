"""The model registry in the client: save and upload here, then one operation records a version;
load by downloading the verified files (leaderboards: ``_leaderboard``; packages:
``_packaging``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from modelwright.api import registry as ops
from modelwright.client._tracking import TrackingMixin
from modelwright.core.pages import PagedList
from modelwright.errors import ArtifactCorrupted, InvalidInput, ModelwrightError, NotFound
from modelwright.objects.models import ObjectScope
from modelwright.registry import models as rm
from modelwright.registry.artifact import (
    MANIFEST,
    Manifest,
    load_dir,
    load_verified,
    parse_manifest,
    read_manifest,
    save_dir,
)
from modelwright.registry.flavors import flavor_for, get_flavor
from modelwright.registry.flavors.pyfunc import refuse_wrapped_estimator
from modelwright.registry.predict import LoadedModel, method_outputs
from modelwright.registry.requirements import pin
from modelwright.registry.signature import (
    Signature,
    example_payload,
    infer_signature,
    validate_input,
)
from modelwright.registry.uri import ModelRef, parse_model_uri

__all__ = ["RegistryMixin"]


class RegistryMixin(TrackingMixin):
    """The registry methods of ``Client``."""

    # -- registering --------------------------------------------------------------------------
    def log_model(
        self,
        model: Any,
        name: str | None = None,
        *,
        run_id: str,
        input_example: Any = None,
        registered_model_name: str | None = None,
        signature: Signature | None = None,
        flavor: str | None = None,
        extra_requirements: list[str] | None = None,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        allow_pickle: bool = False,
    ) -> rm.ModelVersionInfo:
        """Save ``model`` with its flavor, infer its signature from ``input_example`` (the
        model must predict on it, and each of its other prediction methods too: the signature
        records every method's output; its first rows are kept with the model, for a smoke
        gate to replay), pin its requirements from the run's package lock, upload and
        register it as the next version of ``name`` in the run's environment.

        A Python object wrapping a scikit-learn estimator would be pickled (the ``pyfunc``
        flavor), where the estimator alone is stored with skops: refused unless
        ``allow_pickle``."""
        # MLflow callers write log_model(m, name="model", registered_model_name="churn"):
        # there `name` names the logged artifact, so the registered name wins when both differ.
        model_name = registered_model_name or name
        if not model_name:
            raise InvalidInput("name: give the registered model's name", details={"field": "name"})
        run = self.get_run(run_id)
        impl = get_flavor(flavor) if flavor else flavor_for(model)
        if impl.pickle_based and not allow_pickle:
            refuse_wrapped_estimator(model, impl.name)
        example = None
        if input_example is not None:
            if signature is not None:
                validate_input(signature.inputs, input_example)
            try:
                output = impl.predict(model, input_example)
            except Exception as exc:
                raise InvalidInput(
                    f"input_example: the model cannot predict on it ({type(exc).__name__}: {exc})",
                    details={"field": "input_example"},
                ) from None
            signature = signature or infer_signature(
                input_example, output, method_outputs(impl, model, input_example, output)
            )
            example = example_payload(input_example)
        packages = [*impl.packages, *(extra_requirements or [])]
        if signature is not None and signature.inputs.kind == "dataframe":
            packages.append("pandas")
        requirements = pin(packages, run.snapshot.get("packages") or [])
        with tempfile.TemporaryDirectory(prefix="mw-model-") as tmp:
            manifest, data = save_dir(
                model,
                Path(tmp) / "model",
                flavor=impl,
                signature=signature,
                requirements=requirements,
                input_example=example,
            )
            for entry in manifest.files:
                self.transport.put_object(ObjectScope.artifacts(), Path(tmp) / "model" / entry.path)
            digest = self.transport.put_object(ObjectScope.artifacts(), data)
        return self.call(
            ops.REGISTER_MODEL_VERSION,
            workspace=run.workspace,
            name=model_name,
            environment=run.environment,
            manifest=digest,
            run_id=run.id,
            description=description,
            tags={k: str(v) for k, v in (tags or {}).items()},
        )

    # -- reading ------------------------------------------------------------------------------
    def list_models(
        self,
        workspace: str | None = None,
        *,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> PagedList[rm.ModelInfo]:
        """Every registered model of the workspace (by name), or one page of them."""
        return self.call_pages(
            ops.LIST_MODELS,
            page_token=page_token,
            limit=limit,
            workspace=self.resolve_workspace(workspace),
        )

    def get_model(self, name: str, *, workspace: str | None = None) -> rm.ModelDetail:
        return self.call(ops.GET_MODEL, workspace=self.resolve_workspace(workspace), name=name)

    def model_versions(
        self,
        name: str,
        *,
        workspace: str | None = None,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> PagedList[rm.ModelVersionInfo]:
        """Every version you may read (oldest first), or one page of them."""
        return self.call_pages(
            ops.LIST_MODEL_VERSIONS,
            page_token=page_token,
            limit=limit,
            workspace=self.resolve_workspace(workspace),
            name=name,
        )

    def use_model_version(
        self, name: str, version: int, *, run_id: str, workspace: str | None = None
    ) -> rm.ModelVersionInfo:
        """Record that run ``run_id`` used ``name`` version ``version`` (lineage: version →
        run), as batch inference does; the run must be one the caller may write to."""
        return self.call(
            ops.USE_MODEL_VERSION,
            workspace=self.resolve_workspace(workspace),
            name=name,
            version=version,
            run_id=run_id,
        )

    def get_model_version(
        self, uri: str, *, workspace: str | None = None, environment: str | None = None
    ) -> rm.ModelVersionInfo:
        """``"models:/churn/3"``, ``"models:/churn/latest"`` (the highest version),
        ``"models:/churn@champion"`` (in ``environment``, default the first of the
        workspace) or ``"models:/prod/churn@champion"``."""
        ref = parse_model_uri(uri)
        ws = self.resolve_workspace(workspace)
        if ref.latest:
            latest = self.get_model(ref.name, workspace=ws).latest_version
            if latest is None:
                raise NotFound(f"model '{ref.name}' has no versions", details={"model": ref.name})
            return self.call(ops.GET_MODEL_VERSION, workspace=ws, name=ref.name, version=latest)
        if ref.version is not None:
            return self.call(
                ops.GET_MODEL_VERSION, workspace=ws, name=ref.name, version=ref.version
            )
        if ref.environment and environment and ref.environment != environment:
            raise InvalidInput(
                f"uri: names environment '{ref.environment}' but environment='{environment}'",
                details={"field": "uri"},
            )
        env = self.resolve_environment(ws, ref.environment or environment)
        return self.call(
            ops.RESOLVE_MODEL_ALIAS, workspace=ws, name=ref.name, alias=ref.alias, environment=env
        )

    def load_model(
        self,
        uri: str | Path,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        flavor: str | None = None,
        trust_pickle: bool = False,
    ) -> LoadedModel:
        """A registered version (``models:/...``), verified against its digest before
        loading; or a saved model directory, where pickle-based flavors need
        ``trust_pickle=True``. ``flavor`` asserts which flavor the model must be."""
        if not str(uri).startswith("models:/"):
            raw, manifest = load_dir(Path(uri), trusted=trust_pickle, flavor=flavor)
            return LoadedModel(raw=raw, manifest=manifest, uri=str(uri))
        info = self.get_model_version(str(uri), workspace=workspace, environment=environment)
        if flavor is not None and flavor != info.flavor:
            raise InvalidInput(
                f"flavor: {info.uri} is a {info.flavor} model and cannot be loaded as {flavor}",
                details={"field": "flavor", "flavor": info.flavor},
            )
        path, manifest = self._fetch_model(info)
        # Verified on the way (each file by its digest, the manifest by the version's).
        raw = load_verified(path, manifest, trusted=True)
        return LoadedModel(raw=raw, manifest=manifest, digest=info.digest, uri=info.uri)

    def download_model(self, info: rm.ModelVersionInfo, dest: Path | None = None) -> Path:
        """The version's files, each verified on the way, in ``dest`` or the download cache."""
        return self._fetch_model(info, dest)[0]

    def _fetch_model(
        self, info: rm.ModelVersionInfo, dest: Path | None = None
    ) -> tuple[Path, Manifest]:
        from modelwright.client._cache import cache_dir

        target = dest or cache_dir(self.transport) / "models" / info.digest
        if dest is None and target.is_dir():
            try:
                return target, read_manifest(target, info.digest)
            except ModelwrightError:
                shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".mw-model-", dir=target.parent))
        try:
            scope = ObjectScope.artifacts()
            # get_object checks each object against its digest: the manifest against the
            # version's, then each file against the manifest's.
            self.transport.get_object_file(scope, info.digest, tmp / MANIFEST)
            manifest = parse_manifest((tmp / MANIFEST).read_bytes(), f"manifest of {info.uri}")
            if {(f.path, f.digest) for f in manifest.files} != {
                (f.path, f.digest) for f in info.files
            }:
                raise ArtifactCorrupted(
                    f"the manifest of {info.uri} does not list the files the registry recorded",
                    details={"digest": info.digest},
                )
            for entry in manifest.files:
                self.transport.get_object_file(scope, entry.digest, tmp / entry.path)
            if dest is not None:
                dest.mkdir(parents=True, exist_ok=True)
                for p in tmp.iterdir():
                    os.replace(p, dest / p.name)
            else:
                try:
                    os.replace(tmp, target)
                except OSError:  # another process put it there first: check its copy
                    return target, read_manifest(target, info.digest)
            return target, manifest
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- aliases, descriptions, tags ----------------------------------------------------------
    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        environment: str | None = None,
        workspace: str | None = None,
        reason: str = "",
    ) -> rm.ModelVersionInfo:
        ws = self.resolve_workspace(workspace)
        return self.call(
            ops.SET_MODEL_ALIAS,
            workspace=ws,
            name=name,
            alias=alias,
            environment=self.resolve_environment(ws, environment),
            version=version,
            reason=reason,
        )

    def delete_alias(
        self,
        name: str,
        alias: str,
        *,
        environment: str | None = None,
        workspace: str | None = None,
        reason: str = "",
    ) -> rm.AliasEventInfo:
        ws = self.resolve_workspace(workspace)
        return self.call(
            ops.DELETE_MODEL_ALIAS,
            workspace=ws,
            name=name,
            alias=alias,
            environment=self.resolve_environment(ws, environment),
            reason=reason,
        )

    def alias_history(
        self,
        name: str,
        *,
        alias: str | None = None,
        environment: str | None = None,
        workspace: str | None = None,
        at: datetime | None = None,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> PagedList[rm.AliasEventInfo]:
        """Who moved which alias to which version, when and why; with ``at``, where each
        alias pointed at that time ("what was champion in prod on Monday at ten"). Every
        move, or one page of them."""
        return self.call_pages(
            ops.MODEL_ALIAS_HISTORY,
            page_token=page_token,
            limit=limit,
            workspace=self.resolve_workspace(workspace),
            name=name,
            alias=alias,
            environment=environment,
            at=at,
        )

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        version: int | None = None,
        workspace: str | None = None,
    ) -> rm.ModelInfo | rm.ModelVersionInfo:
        """Set the description and tags of a model, or of one of its versions."""
        ws = self.resolve_workspace(workspace)
        fields: dict[str, Any] = {"workspace": ws, "name": name, "tags": dict(tags or {})}
        if description is not None:
            fields["description"] = description
        if version is None:
            return self.call(ops.UPDATE_MODEL, **fields)
        return self.call(ops.UPDATE_MODEL_VERSION, version=version, **fields)

    # -- MLflow-style lookups -----------------------------------------------------------------
    def search_model_versions(
        self,
        filter_string: str = "",
        *,
        workspace: str | None = None,
        max_results: int = 1000,
    ) -> list[rm.ModelVersionInfo]:
        """``search_model_versions("name = 'churn' and tags.team = 'risk'")``: clauses on
        ``name``, ``run_id``, ``version``, ``environment`` and ``tags.KEY`` joined by ``and``
        (``=``, ``!=``, ``like``, ``ilike``); newest first."""
        from modelwright.client._version_filter import matches, parse_version_filter

        clauses = parse_version_filter(filter_string)
        if max_results < 1:
            raise InvalidInput(
                f"max_results: must be at least 1 (got {max_results})",
                details={"field": "max_results"},
            )
        ws = self.resolve_workspace(workspace)
        exact = {c.value for c in clauses if c.key == "name" and c.op == "="}
        names = sorted(exact) if exact else [m.name for m in self.list_models(ws)]
        found = [
            v
            for name in names
            for v in self.model_versions(name, workspace=ws)
            if matches(v, clauses)
        ]
        found.sort(key=lambda v: (v.created_at, v.name, v.version), reverse=True)
        return found[:max_results]

    def get_model_version_by_alias(
        self,
        name: str,
        alias: str,
        *,
        environment: str | None = None,
        workspace: str | None = None,
    ) -> rm.ModelVersionInfo:
        """The version ``alias`` points at in ``environment`` (default: the workspace's first)."""
        return self.get_model_version(
            str(ModelRef(name=name, alias=alias)), workspace=workspace, environment=environment
        )
