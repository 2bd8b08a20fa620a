# NixOS module for printerfacts behind nginx on a Unix socket.
#
#   imports = [ ./deploy/nixos/module.nix ];
#   services.printerfacts = {
#     enable = true;
#     package = pkgs.callPackage ./printerfacts.nix { };  # anything with bin/printerfacts
#     domain = "printerfacts.example.com";
#     useACME = true;
#   };
#
# Unlike the article this grew from, the socket lives in /run/printerfacts (RuntimeDirectory),
# not /tmp, so nginx's PrivateTmp can stay on; nginx is given the socket's group both ways that
# work (in /etc/group for nginx's initgroups(), and SupplementaryGroups= for its unit).
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkEnableOption mkIf mkOption types;
  cfg = config.services.printerfacts;
  nginxUser = config.services.nginx.user;
in
{
  options.services.printerfacts = {
    enable = mkEnableOption "printerfacts, random printer facts over HTTP on a Unix socket";

    package = mkOption {
      type = types.package;
      description = "The printerfacts package; its bin/printerfacts is run (a release binary will do).";
    };

    sockPath = mkOption {
      type = types.str;
      default = "/run/printerfacts/printerfacts.sock";
      description = ''
        The Unix socket printerfacts listens on. Keep it in /run/printerfacts: the unit creates
        that directory, and a socket in /tmp is invisible to an nginx with PrivateTmp.
      '';
    };

    sockMode = mkOption {
      type = types.strMatching "0?[0-7]{3}";
      default = "0660";
      description = "The socket's permissions: owner and group (nginx) may connect.";
    };

    user = mkOption {
      type = types.str;
      default = "printerfacts";
      description = "The user printerfacts runs as.";
    };

    group = mkOption {
      type = types.str;
      default = "printerfacts";
      description = "The socket's group; nginx's user is added to it.";
    };

    shutdownTimeout = mkOption {
      type = types.ints.between 0 3600;
      default = 10;
      description = "Seconds to let requests finish after SIGTERM (SHUTDOWN_TIMEOUT).";
    };

    environment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { LOG_FORMAT = "json"; };
      description = "More environment variables for the service.";
    };

    domain = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "printerfacts.example.com";
      description = "Serve printerfacts through nginx on this virtual host; null configures no nginx.";
    };

    useACME = mkOption {
      type = types.bool;
      default = false;
      description = "Get a certificate from ACME for the domain, redirect HTTP to HTTPS and send HSTS.";
    };

    metrics = {
      enable = mkEnableOption "a separate Prometheus listener on loopback TCP (never through nginx)";
      port = mkOption {
        type = types.port;
        default = 9464;
        description = "METRICS_PORT: Prometheus scrapes 127.0.0.1 on this port.";
      };
      host = mkOption {
        type = types.str;
        default = "127.0.0.1";
        description = "METRICS_HOST: the address the metrics listener binds.";
      };
    };
  };

  config = mkIf cfg.enable {
    users.groups.${cfg.group} = { };
    # mkMerge: the two names may be the same user (a dynamic attribute may be defined only once).
    users.users = lib.mkMerge [
      {
        ${cfg.user} = {
          isSystemUser = true;
          group = cfg.group;
        };
      }
      # nginx must be able to connect: put its user in the socket's group.
      (mkIf (cfg.domain != null) { ${nginxUser}.extraGroups = [ cfg.group ]; })
    ];

    systemd.services.printerfacts = {
      description = "printerfacts: random printer facts over HTTP on a Unix socket";
      wantedBy = [ "multi-user.target" ];
      environment = {
        SOCKPATH = cfg.sockPath;
        SOCKMODE = cfg.sockMode;
        SHUTDOWN_TIMEOUT = toString cfg.shutdownTimeout;
      } // lib.optionalAttrs cfg.metrics.enable {
        METRICS_PORT = toString cfg.metrics.port;
        METRICS_HOST = cfg.metrics.host;
      } // cfg.environment;
      serviceConfig = {
        Type = "simple";
        ExecStart = "${cfg.package}/bin/printerfacts";
        # Started means serving: the socket appears only after listen(). As root ("+"), to see the
        # main process even while systemd still sets it up.
        ExecStartPost = "+/bin/sh -c 'while [ -n \"$$SOCKPATH\" ] && [ ! -S \"$$SOCKPATH\" ]; do kill -0 $$MAINPID 2>/dev/null || exit 1; sleep 0.05; done'";
        User = cfg.user;
        Group = cfg.group;
        RuntimeDirectory = "printerfacts";
        RuntimeDirectoryMode = "0750";
        # The service sets its socket's and bind directory's modes itself; anything else is private.
        UMask = "0077";
        KillSignal = "SIGTERM";
        # Longer than the drain, so systemd never cuts it short.
        TimeoutStopSec = cfg.shutdownTimeout + 10;
        Restart = "on-failure";
        RestartSec = "1s";
        # A crash (70) restarts; an operator's mistake does not: bad configuration (78), bad
        # argument (64), could not start (1: SOCKPATH's directory, a file in the way, a port taken).
        RestartPreventExitStatus = "1 64 78";
        NoNewPrivileges = true;
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        DevicePolicy = "closed";
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        RemoveIPC = true;
        RestrictAddressFamilies = [ "AF_UNIX" ] ++ lib.optionals cfg.metrics.enable [ "AF_INET" "AF_INET6" ];
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" ];
        SystemCallErrorNumber = "EPERM";
        # No MemoryDenyWriteExecute: the JavaScript JIT needs it off.
      };
    };

    # Also the group on nginx's unit: what counts when nginx's master runs unprivileged.
    systemd.services.nginx = mkIf (cfg.domain != null) {
      after = [ "printerfacts.service" ];
      serviceConfig.SupplementaryGroups = [ cfg.group ];
    };

    services.nginx = mkIf (cfg.domain != null) {
      enable = true;
      upstreams.printerfacts = {
        # max_fails=0: a local socket fails at once, never mark it down (see deploy/nginx).
        servers."unix:${cfg.sockPath}" = { max_fails = 0; };
        extraConfig = ''
          keepalive 16;
          keepalive_timeout 4s;
        '';
      };
      virtualHosts.${cfg.domain} = {
        forceSSL = cfg.useACME;
        enableACME = cfg.useACME;
        extraConfig = ''
          client_header_timeout 10s;
          client_body_timeout 10s;
          client_max_body_size 16k;
        '' + lib.optionalString cfg.useACME ''
          add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
        '';
        locations."/" = {
          proxyPass = "http://printerfacts";
          # Our own headers, not the recommended ones: X-Forwarded-For is overwritten, not appended.
          recommendedProxySettings = false;
          extraConfig = ''
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-Id $request_id;
            proxy_connect_timeout 2s;
            proxy_send_timeout 10s;
            proxy_read_timeout 10s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
          '';
        };
        # Metrics are never public; scrape cfg.metrics.host:cfg.metrics.port instead.
        locations."^~ /metrics".return = "404";
      };
    };
  };
}
