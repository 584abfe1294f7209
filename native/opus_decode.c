/*
 * Opus decoding with in-band FEC and per-frame loss concealment, for WebRTC legs
 * (src/media/codec/opus.ts). @discordjs/opus, our Opus library, calls opus_decode with
 * decode_fec = 0 and asks for 120 ms on an empty packet, so it can neither recover a lost frame
 * from the next packet's redundancy (RFC 7587 §3.3) nor conceal one 20 ms frame; no maintained
 * npm package does either. This file calls the same libopus — the one inside @discordjs/opus's
 * opus.node, which exports libopus's API — through dlopen, so there is one libopus, built once.
 *
 * It decodes into the caller's Int16Array (no allocation per frame). Linux only, like the UDP
 * batch; where it does not build or load, opus.ts falls back to the binding's decode.
 *
 *   open(pathOfOpusNode) → 0, or -1 (dlopen failed), -2 (a libopus symbol is missing)
 *   create(rate) → a decoder (mono at `rate`), or throws
 *   decode(decoder, packet | null, out, fec) → samples written into out, or a libopus error (< 0)
 *     packet null: concealment of out.length samples; fec 1: the frame before `packet`, from its FEC
 *   destroy(decoder) → frees it (again: nothing); a decoder never destroyed is freed when collected
 */
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct OpusDecoder OpusDecoder;

/* libopus's API (opus.h), resolved from the loaded opus.node; the same in every thread. */
static OpusDecoder *(*opus_decoder_create_fn)(int32_t rate, int channels, int *error);
static int (*opus_decode_fn)(OpusDecoder *st, const unsigned char *data, int32_t len, int16_t *pcm, int frame_size, int decode_fec);
static void (*opus_decoder_destroy_fn)(OpusDecoder *st);

/* A decoder as JS holds it: the libopus state, null once destroyed. */
typedef struct {
  OpusDecoder *st;
} Decoder;

static napi_value int_value(napi_env env, int v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static napi_value open_library(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[4096];
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return int_value(env, -1);
  /* Already loaded by Node when @discordjs/opus was required: this takes another reference. */
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return int_value(env, -1);
  opus_decoder_create_fn = dlsym(lib, "opus_decoder_create");
  opus_decode_fn = dlsym(lib, "opus_decode");
  opus_decoder_destroy_fn = dlsym(lib, "opus_decoder_destroy");
  return int_value(env, opus_decoder_create_fn && opus_decode_fn && opus_decoder_destroy_fn ? 0 : -2);
}

static void finalize_decoder(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Decoder *d = data;
  if (d->st != NULL) opus_decoder_destroy_fn(d->st);
  free(d);
}

static napi_value create_decoder(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t rate = 0;
  int error = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (opus_decoder_create_fn == NULL) {
    napi_throw_error(env, NULL, "libopus is not open");
    return NULL;
  }
  if (argc < 1 || napi_get_value_int32(env, argv[0], &rate) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a sample rate");
    return NULL;
  }
  Decoder *d = malloc(sizeof *d);
  if (d == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  d->st = opus_decoder_create_fn(rate, 1, &error);
  if (d->st == NULL || error != 0) {
    free(d);
    napi_throw_error(env, NULL, "opus_decoder_create failed");
    return NULL;
  }
  napi_create_external(env, d, finalize_decoder, NULL, &result);
  return result;
}

static Decoder *decoder_of(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], arraybuffer;
  napi_valuetype type;
  napi_typedarray_type kind;
  size_t in_len = 0, out_len = 0, offset = 0;
  void *in = NULL, *out = NULL;
  int32_t fec = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Decoder *d = argc == 4 ? decoder_of(env, argv[0]) : NULL;
  if (d == NULL || d->st == NULL) return int_value(env, -6); /* OPUS_INVALID_STATE */
  napi_typeof(env, argv[1], &type);
  if (type != napi_null && (napi_get_typedarray_info(env, argv[1], &kind, &in_len, &in, &arraybuffer, &offset) != napi_ok || kind != napi_uint8_array))
    return int_value(env, -1); /* OPUS_BAD_ARG */
  if (napi_get_typedarray_info(env, argv[2], &kind, &out_len, &out, &arraybuffer, &offset) != napi_ok || kind != napi_int16_array)
    return int_value(env, -1);
  napi_get_value_int32(env, argv[3], &fec);
  return int_value(env, opus_decode_fn(d->st, type == napi_null ? NULL : in, (int32_t)in_len, out, (int)out_len, fec != 0));
}

static napi_value destroy_decoder(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Decoder *d = argc == 1 ? decoder_of(env, argv[0]) : NULL;
  if (d != NULL && d->st != NULL) {
    opus_decoder_destroy_fn(d->st);
    d->st = NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, open_library, NULL, NULL, NULL, napi_default, NULL},
      {"create", NULL, create_decoder, NULL, NULL, NULL, napi_default, NULL},
      {"decode", NULL, decode, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy_decoder, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
