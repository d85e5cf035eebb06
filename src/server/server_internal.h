/* server_internal.h — state shared by the server's files (not part of the face). */
#ifndef ORX_SERVER_INTERNAL_H
#define ORX_SERVER_INTERNAL_H
#include "server/server.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#define ORX_MAX_ROUTES 32

typedef struct orx_route {
    char         method[8];  /* "GET" | "POST" */
    char         path[128];  /* exact path */
    orx_route_fn fn;         /* handler */
    void        *user;       /* handler context */
    bool         open;       /* served without the API key (the page's static files) [helper W] */
} orx_route;

struct orx_server {
    struct MHD_Daemon *d;          /* libmicrohttpd daemon */
    orx_server_params  p;          /* copy of the start parameters */
    char              *api_key;    /* owned copy, or NULL */
    time_t             started;    /* unix time at start */
    int                port;       /* bound port */
    atomic_bool        ready;      /* /health 200 when true */
    atomic_ulong       next_id;    /* completion id counter */
    pthread_mutex_t    model_lock; /* one request at a time per loaded model */
    orx_route          routes[ORX_MAX_ROUTES];
    int                n_routes;
};

enum MHD_Result orx_srv_send(struct MHD_Connection *c, int status, const char *ctype, char *body);
enum MHD_Result orx_srv_send_error(struct MHD_Connection *c, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum MHD_Result orx_srv_chat_completions(orx_server *s, struct MHD_Connection *c, const char *body, size_t len);
#endif
