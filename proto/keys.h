/*
 * keys.h - names of the xenstore keys the two ends of a PV device publish
 * and read (docs/linux-pv-interface.md section 3).  Xen's headers document
 * these keys only in prose, so the spellings live here, once, for the
 * backends, the frontends and the tests.  Invariant: each macro expands to
 * the exact key Linux's xen-blkfront / xen-netfront / xen-netback use.
 */
#ifndef PVK_KEYS_H
#define PVK_KEYS_H

/* Common to every xenbus device (both ends). */
#define PVK_KEY_STATE            "state"
#define PVK_KEY_BACKEND          "backend"
#define PVK_KEY_BACKEND_ID       "backend-id"
#define PVK_KEY_FRONTEND         "frontend"
#define PVK_KEY_FRONTEND_ID      "frontend-id"
#define PVK_KEY_ONLINE           "online"
#define PVK_KEY_HANDLE           "handle"
#define PVK_KEY_EVENT_CHANNEL    "event-channel"
#define PVK_KEY_RING_REF         "ring-ref"
#define PVK_KEY_PROTOCOL         "protocol"
#define PVK_KEY_MQ_MAX_QUEUES    "multi-queue-max-queues"
#define PVK_KEY_MQ_NUM_QUEUES    "multi-queue-num-queues"

/* vbd: written by the toolstack in the backend node. */
#define PVK_VBD_DEV              "dev"
#define PVK_VBD_MODE             "mode"
#define PVK_VBD_PARAMS           "params"
#define PVK_VBD_TYPE             "type"
#define PVK_VBD_PHYSICAL_DEVICE  "physical-device"
#define PVK_VBD_DISCARD_ENABLE   "discard-enable"
/* vbd: written by the backend. */
#define PVK_VBD_SECTORS          "sectors"
#define PVK_VBD_SECTOR_SIZE      "sector-size"
#define PVK_VBD_PHYS_SECTOR_SIZE "physical-sector-size"
#define PVK_VBD_INFO             "info"
#define PVK_VBD_FEAT_FLUSH       "feature-flush-cache"
#define PVK_VBD_FEAT_BARRIER     "feature-barrier"
#define PVK_VBD_FEAT_DISCARD     "feature-discard"
#define PVK_VBD_DISCARD_GRAN     "discard-granularity"
#define PVK_VBD_DISCARD_ALIGN    "discard-alignment"
#define PVK_VBD_DISCARD_SECURE   "discard-secure"
#define PVK_VBD_FEAT_PERSISTENT  "feature-persistent"
#define PVK_VBD_FEAT_INDIRECT    "feature-max-indirect-segments"
#define PVK_VBD_MAX_RING_ORDER   "max-ring-page-order"
/* vbd: written by the frontend. */
#define PVK_VBD_VIRTUAL_DEVICE   "virtual-device"
#define PVK_VBD_DEVICE_TYPE      "device-type"
#define PVK_VBD_RING_PAGE_ORDER  "ring-page-order"

/* vif: toolstack keys in both nodes. */
#define PVK_VIF_MAC              "mac"
#define PVK_VIF_SCRIPT           "script"
#define PVK_VIF_HOTPLUG_STATUS   "hotplug-status"
#define PVK_VIF_BRIDGE           "bridge"
/* vif: backend features. */
#define PVK_VIF_FEAT_RX_COPY     "feature-rx-copy"
#define PVK_VIF_FEAT_RX_FLIP     "feature-rx-flip"
#define PVK_VIF_FEAT_SG          "feature-sg"
#define PVK_VIF_FEAT_GSO_TCPV4   "feature-gso-tcpv4"
#define PVK_VIF_FEAT_GSO_TCPV6   "feature-gso-tcpv6"
#define PVK_VIF_FEAT_IPV6_CSUM   "feature-ipv6-csum-offload"
#define PVK_VIF_FEAT_SPLIT_EVTCHN "feature-split-event-channels"
/* vif: frontend keys. */
#define PVK_VIF_TX_RING_REF      "tx-ring-ref"
#define PVK_VIF_RX_RING_REF      "rx-ring-ref"
#define PVK_VIF_REQ_RX_COPY      "request-rx-copy"
#define PVK_VIF_FEAT_RX_NOTIFY   "feature-rx-notify"
#define PVK_VIF_FEAT_NO_CSUM     "feature-no-csum-offload"

/* console (primary, per domain, and secondary xenbus consoles). */
#define PVK_CONS_RING_REF        "ring-ref"
#define PVK_CONS_PORT            "port"
#define PVK_CONS_TYPE            "type"
#define PVK_CONS_TTY             "tty"
#define PVK_CONS_TYPE_XENCONSOLED "xenconsoled"

/* Value of `hotplug-status` that releases netback's switch to Connected. */
#define PVK_HOTPLUG_CONNECTED    "connected"

#endif
