{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["native/udp_batch.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    },
    {
      "target_name": "opus_decode",
      "sources": ["native/opus_decode.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-ldl"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
