"""What kubernetes-validate cannot see in deploy/k8s: references between the manifests, and
agreement with the host's command line, its probes and drain, and deploy/Dockerfile.

    python3 deploy/k8s/check_manifests.py [K8S_DIR [REPO_ROOT]]

Run by deploy/k8s/validate.sh (with PyYAML from its venv). Prints each problem found and exits 1
if there is any, else prints a summary and exits 0.
"""

import pathlib
import re
import sys
from urllib.parse import urlsplit

import yaml

HERE = pathlib.Path(__file__).resolve().parent
WORKLOAD_KINDS = {"Deployment", "StatefulSet"}

errors = []


def error(message):
    errors.append(message)


def load_manifests(k8s_dir):
    """The documents of every file kustomization.yaml lists, checking that it lists them all."""
    kustomization = yaml.safe_load((k8s_dir / "kustomization.yaml").read_text())
    listed = kustomization.get("resources") or []
    present = sorted(
        p.name for p in k8s_dir.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    for name in sorted(set(present) - set(listed)):
        error(f"{name} is not listed in kustomization.yaml's resources")
    docs = []
    for name in listed:
        path = k8s_dir / name
        if not path.is_file():
            error(f"kustomization.yaml lists {name}, which does not exist")
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((name, doc))
    return [name for name in listed if (k8s_dir / name).is_file()], docs


def serve_flags(root):
    """`livewasm serve`'s flags (from its clap definitions) as {flag: takes_value}."""
    flags = {}
    for source in ["host/cli/src/serve.rs", "host/cli/src/main.rs"]:
        text = (root / source).read_text()
        # An `#[arg(...)]` attribute, doc comments or other attributes, then `name: Type,`.
        pattern = r"#\[arg\((.*?)\)\]\s*(?:(?:///[^\n]*|#\[[^\n]*)\s*)*(?:pub\s+)?(\w+):\s*([^,\n]+),"
        for attr, field, ty in re.findall(pattern, text, re.S):
            if not re.search(r"\blong\b", attr):
                continue
            named = re.search(r'long\s*=\s*"([^"]+)"', attr)
            flag = "--" + (named.group(1) if named else field.replace("_", "-"))
            flags[flag] = ty.strip() != "bool"
    if "--listen" not in flags or "--drain-timeout-secs" not in flags:
        error("could not read livewasm serve's flags from host/cli/src/serve.rs")
    return flags


def host_env_vars(root):
    """Environment variables the host reads (clap `env = …`, `std::env::var(…)`, RUST_LOG)."""
    names = {"RUST_LOG"}
    for path in (root / "host").glob("*/src/**/*.rs"):
        text = path.read_text()
        names.update(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', text))
        names.update(re.findall(r'env::var(?:_os)?\("([A-Z0-9_]+)"\)', text))
    return names


def dockerfile_facts(root):
    text = (root / "deploy/Dockerfile").read_text()
    uid = re.search(r"useradd[^\n]*--uid\s+(\d+)", text)
    user = re.search(r"^USER\s+(\S+)", text, re.M)
    expose = re.search(r"^EXPOSE\s+(.+)$", text, re.M)
    examples = re.search(r"^COPY --from=build /src/target/components\s+(\S+)", text, re.M)
    tag = re.search(r"docker build -f deploy/Dockerfile -t (\S+?):", text)
    return {
        "uid": int(uid.group(1)) if uid else None,
        "user": user.group(1) if user else None,
        "expose": {int(p) for p in expose.group(1).split()} if expose else set(),
        "examples": examples.group(1) if examples else None,
        "image": tag.group(1) if tag else None,
    }


def pod_spec(doc):
    return ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}


def template_labels(doc):
    return (((doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "labels"
    ) or {}


def containers(doc):
    spec = pod_spec(doc)
    return (spec.get("initContainers") or []) + (spec.get("containers") or [])


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def parse_args(args, flags, where):
    """`serve` args as {flag: [values]}; an unknown flag is an error."""
    if not args or args[0] != "serve":
        error(f"{where}: args must start with `serve`, got {args[:1]}")
        return {}
    given = {}
    i = 1
    while i < len(args):
        arg = str(args[i])
        name, _, inline = arg.partition("=")
        if not name.startswith("--"):
            error(f"{where}: unexpected argument {arg!r} (not a flag)")
            i += 1
            continue
        if name not in flags:
            error(f"{where}: `livewasm serve` has no flag {name} (see host/cli/src/serve.rs)")
            i += 1
            continue
        if flags[name] and not inline:
            if i + 1 >= len(args):
                error(f"{where}: {name} needs a value")
                break
            given.setdefault(name, []).append(str(args[i + 1]))
            i += 2
        else:
            given.setdefault(name, []).append(inline)
            i += 1
    return given


def main():
    k8s_dir = pathlib.Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE
    root = pathlib.Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else HERE.parent.parent
    files, docs = load_manifests(k8s_dir)
    objects = {}
    for name, doc in docs:
        kind = doc.get("kind")
        meta = doc.get("metadata") or {}
        if "namespace" in meta:
            error(f"{name}: {kind} {meta.get('name')} names a namespace (set it in kustomization.yaml)")
        objects.setdefault((kind, meta.get("name")), doc)
    by_kind = lambda kind: {n: d for (k, n), d in objects.items() if k == kind}
    secrets = {
        n: set((d.get("stringData") or {}).keys()) | set((d.get("data") or {}).keys())
        for n, d in by_kind("Secret").items()
    }
    services = by_kind("Service")
    workloads = {(k, n): d for (k, n), d in objects.items() if k in WORKLOAD_KINDS}

    # Every workload: its selector, secrets, volumes, resources and security settings.
    for (kind, name), doc in workloads.items():
        where = f"{kind} {name}"
        selector = ((doc.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not matches(selector, template_labels(doc)):
            error(f"{where}: selector {selector} does not match its pod template's labels")
        spec = pod_spec(doc)
        pod_security = spec.get("securityContext") or {}
        if pod_security.get("runAsNonRoot") is not True:
            error(f"{where}: securityContext.runAsNonRoot must be true")
        volumes = {v["name"] for v in spec.get("volumes") or []}
        volumes |= {
            (t.get("metadata") or {}).get("name")
            for t in (doc.get("spec") or {}).get("volumeClaimTemplates") or []
        }
        for c in containers(doc):
            cwhere = f"{where}, container {c.get('name')}"
            image = c.get("image", "")
            if ":" not in image or image.endswith(":latest"):
                error(f"{cwhere}: pin the image's tag ({image!r})")
            for env in c.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if not ref or ref.get("optional"):
                    continue
                if ref.get("name") not in secrets:
                    error(f"{cwhere}: env {env['name']} reads Secret {ref.get('name')!r}, which no manifest defines")
                elif ref.get("key") not in secrets[ref["name"]]:
                    error(f"{cwhere}: env {env['name']} reads key {ref.get('key')!r}, which Secret {ref['name']} does not hold (it has {sorted(secrets[ref['name']])})")
            for source in c.get("envFrom") or []:
                ref = source.get("secretRef")
                if ref and not ref.get("optional") and ref.get("name") not in secrets:
                    error(f"{cwhere}: envFrom reads Secret {ref.get('name')!r}, which no manifest defines")
            for mount in c.get("volumeMounts") or []:
                if mount.get("name") not in volumes:
                    error(f"{cwhere}: volumeMount {mount.get('name')!r} names no volume")
            resources = c.get("resources") or {}
            for part, keys in [("requests", ["cpu", "memory"]), ("limits", ["memory"])]:
                for key in keys:
                    if key not in (resources.get(part) or {}):
                        error(f"{cwhere}: resources.{part}.{key} is missing")
            security = c.get("securityContext") or {}
            if security.get("allowPrivilegeEscalation") is not False:
                error(f"{cwhere}: securityContext.allowPrivilegeEscalation must be false")
            if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
                error(f"{cwhere}: securityContext.capabilities.drop must hold ALL")
            port_names = {p.get("name") for p in c.get("ports") or []}
            for probe in ["startupProbe", "readinessProbe", "livenessProbe"]:
                port = ((c.get(probe) or {}).get("httpGet") or {}).get("port")
                if isinstance(port, str) and port not in port_names:
                    error(f"{cwhere}: {probe} uses port {port!r}, which the container does not name")

    # Services, PodDisruptionBudgets and NetworkPolicies select pods that exist, on ports they have.
    for name, svc in services.items():
        selector = (svc.get("spec") or {}).get("selector") or {}
        targets = [d for d in workloads.values() if matches(selector, template_labels(d))]
        if not targets:
            error(f"Service {name}: selector {selector} matches no workload's pods")
        for port in (svc.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for d in targets:
                ports = [p for c in containers(d) for p in c.get("ports") or []]
                if not any(target in (p.get("name"), p.get("containerPort")) for p in ports):
                    error(f"Service {name}: targetPort {target!r} is no container port of {d['metadata']['name']}")
    for kind in ["PodDisruptionBudget", "NetworkPolicy"]:
        for name, doc in by_kind(kind).items():
            spec = doc.get("spec") or {}
            selector = (spec.get("selector") or spec.get("podSelector") or {}).get("matchLabels") or {}
            if not any(matches(selector, template_labels(d)) for d in workloads.values()):
                error(f"{kind} {name}: selector {selector} matches no workload's pods")
            for rule in spec.get("ingress") or []:
                for peer in rule.get("from") or []:
                    sel = (peer.get("podSelector") or {}).get("matchLabels")
                    if sel and not any(matches(sel, template_labels(d)) for d in workloads.values()):
                        error(f"{kind} {name}: ingress from {sel} matches no workload's pods")

    # The Livewasm Deployment itself.
    livewasm = objects.get(("Deployment", "livewasm"))
    if livewasm is None:
        error("no Deployment named livewasm")
        return
    where = "Deployment livewasm"
    flags = serve_flags(root)
    env_names = host_env_vars(root)
    docker = dockerfile_facts(root)
    spec = livewasm.get("spec") or {}
    if not isinstance(spec.get("replicas"), int) or spec["replicas"] < 2:
        error(f"{where}: replicas must be 2 or more (got {spec.get('replicas')})")
    pod = pod_spec(livewasm)
    host = next((c for c in pod.get("containers") or [] if c.get("name") == "livewasm"), None)
    if host is None:
        error(f"{where}: no container named livewasm")
        return
    given = parse_args(host.get("args") or [], flags, where)
    ports = {p.get("name"): p.get("containerPort") for p in host.get("ports") or []}

    for probe, path in [("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")]:
        got = ((host.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path:
            error(f"{where}: {probe} must GET {path} (got {got})")
    startup = ((host.get("startupProbe") or {}).get("httpGet") or {}).get("path")
    if startup not in (None, "/health/live", "/health/ready"):
        error(f"{where}: startupProbe must GET /health/live or /health/ready (got {startup})")

    # Grace period: preStop pause, then the host's drain, must both fit.
    drain = given.get("--drain-timeout-secs")
    grace = pod.get("terminationGracePeriodSeconds")
    pre_stop = ((host.get("lifecycle") or {}).get("preStop") or {})
    command = (pre_stop.get("exec") or {}).get("command") or []
    if not pre_stop:
        error(f"{where}: the livewasm container needs a preStop hook")
    pause = 0
    if command[:1] == ["sleep"] and len(command) == 2:
        pause = int(command[1])
    elif "sleep" in pre_stop:
        pause = int(pre_stop["sleep"].get("seconds", 0))
    if not drain:
        error(f"{where}: pass --drain-timeout-secs explicitly (the grace period depends on it)")
    elif not isinstance(grace, int) or grace <= int(drain[-1]) + pause:
        error(
            f"{where}: terminationGracePeriodSeconds ({grace}) must exceed the preStop pause "
            f"({pause} s) plus --drain-timeout-secs ({drain[-1]} s)"
        )

    # Listeners agree with the named container ports and the Dockerfile's EXPOSE.
    for flag, port_name in [("--listen", "http"), ("--metrics-listen", "metrics")]:
        if flag not in given:
            error(f"{where}: pass {flag}")
            continue
        port = port_of(given[flag][-1])
        if ports.get(port_name) != port:
            error(f"{where}: {flag} {given[flag][-1]} but container port {port_name!r} is {ports.get(port_name)}")
        if not given[flag][-1].startswith("0.0.0.0:"):
            error(f"{where}: {flag} must listen on 0.0.0.0 to be reachable from other pods")
        if port not in docker["expose"]:
            error(f"{where}: port {port} is not in deploy/Dockerfile's EXPOSE {sorted(docker['expose'])}")
    annotations = ((livewasm["spec"]["template"].get("metadata") or {}).get("annotations")) or {}
    if "prometheus.io/port" in annotations and "--metrics-listen" in given:
        if int(annotations["prometheus.io/port"]) != port_of(given["--metrics-listen"][-1]):
            error(f"{where}: the prometheus.io/port annotation is not the --metrics-listen port")

    # Image, user and bundled examples agree with deploy/Dockerfile.
    image = host.get("image", "")
    if docker["image"] and image.rsplit(":", 1)[0] != docker["image"]:
        error(f"{where}: image {image!r} is not the Dockerfile's {docker['image']}:<tag>")
    run_as = (pod.get("securityContext") or {}).get("runAsUser")
    if docker["uid"] is None or run_as != docker["uid"]:
        error(f"{where}: runAsUser {run_as} is not deploy/Dockerfile's livewasm uid {docker['uid']}")
    if docker["user"] and docker["user"].split(":")[0] not in (str(docker["uid"]), "livewasm"):
        error(f"deploy/Dockerfile: USER {docker['user']} is not the livewasm user")
    if (host.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
        error(f"{where}: the livewasm container's root filesystem must be read-only")
    mounts = [m.get("mountPath") for m in host.get("volumeMounts") or []]
    if "/tmp" not in mounts:
        error(f"{where}: uploads are spooled to /tmp: mount a writable volume there")
    for sql_dir in given.get("--sql-dir", []):
        if not any(sql_dir == m or sql_dir.startswith(m.rstrip("/") + "/") for m in mounts):
            error(f"{where}: --sql-dir {sql_dir} is on no mounted volume (the root is read-only)")
    if "--no-cache" not in given and not given.get("--cache-dir"):
        error(f"{where}: the default artifact cache dir is on the read-only root: pass --no-cache or --cache-dir")
    for app in given.get("--app", []):
        path = pathlib.PurePosixPath(app)
        if docker["examples"] and str(path.parent) != docker["examples"].rstrip("/"):
            error(f"{where}: --app {app} is not in the image's {docker['examples']}")
        elif not (root / "examples" / path.stem).is_dir():
            error(f"{where}: --app {app}: no example crate examples/{path.stem}")

    # Environment: only variables the host reads, secrets from Secrets, NATS from its Service.
    env = {e["name"]: e for e in host.get("env") or []}
    for name in env:
        if name not in env_names:
            error(f"{where}: the host reads no environment variable {name}")
    for name in ["LIVEWASM_SECRET_KEY", "DATABASE_URL"]:
        if not ((env.get(name) or {}).get("valueFrom") or {}).get("secretKeyRef"):
            error(f"{where}: {name} must come from a Secret (secretKeyRef)")
    cluster = (env.get("LIVEWASM_CLUSTER") or {}).get("value") or (given.get("--cluster") or [None])[-1]
    if not cluster:
        error(f"{where}: set LIVEWASM_CLUSTER (or --cluster) to the NATS Service")
    else:
        url = urlsplit(cluster)
        svc = services.get(url.hostname)
        if url.scheme != "nats" or svc is None:
            error(f"{where}: LIVEWASM_CLUSTER {cluster} names no Service of these manifests")
        elif url.port not in [p.get("port") for p in svc["spec"].get("ports") or []]:
            error(f"{where}: LIVEWASM_CLUSTER {cluster}: Service {url.hostname} has no port {url.port}")

    # The example registry URL agrees with the bundled Postgres, when it points at it.
    database_ref = ((env.get("DATABASE_URL") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
    secret_doc = objects.get(("Secret", database_ref.get("name")))
    database_url = ((secret_doc or {}).get("stringData") or {}).get(database_ref.get("key"))
    if database_url:
        url = urlsplit(database_url)
        if url.scheme not in ("postgres", "postgresql"):
            error(f"Secret {database_ref['name']}: {database_ref['key']} is not a postgres:// URL")
        postgres = objects.get(("StatefulSet", url.hostname))
        if url.hostname in services and postgres is not None:
            pg = next(iter(pod_spec(postgres).get("containers") or []), {})
            pg_env = {e["name"]: e for e in pg.get("env") or []}
            if (pg_env.get("POSTGRES_USER") or {}).get("value") != url.username:
                error(f"DATABASE_URL's user {url.username} is not POSTGRES_USER of StatefulSet {url.hostname}")
            if (pg_env.get("POSTGRES_DB") or {}).get("value") != url.path.lstrip("/"):
                error(f"DATABASE_URL's database {url.path} is not POSTGRES_DB of StatefulSet {url.hostname}")
            ref = ((pg_env.get("POSTGRES_PASSWORD") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
            password = ((objects.get(("Secret", ref.get("name"))) or {}).get("stringData") or {}).get(ref.get("key"))
            if password != url.password:
                error(f"DATABASE_URL's password is not POSTGRES_PASSWORD of StatefulSet {url.hostname}")
            svc_ports = [p.get("port") for p in services[url.hostname]["spec"].get("ports") or []]
            if (url.port or 5432) not in svc_ports:
                error(f"DATABASE_URL's port {url.port} is not a port of Service {url.hostname}")

    if not errors:
        print(
            f"  consistency: {len(files)} files, {len(docs)} objects; secrets, selectors, ports, "
            f"probes, drain ({drain[-1] if drain else '?'} s + {pause} s < {grace} s grace), "
            f"serve flags, env, Dockerfile: ok"
        )


if __name__ == "__main__":
    main()
    for message in errors:
        print(f"ERROR {message}", file=sys.stderr)
    sys.exit(1 if errors else 0)
