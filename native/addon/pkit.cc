// pkit's in-process native addon: the few syscalls Node has no API for.
// Everything that must run between clone() and execve() belongs to the helper executable instead.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace {

// An Error shaped like Node's own system errors: code, errno, syscall, path.
Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& path = "") {
  std::string msg = std::string(strerrordesc_np(err) ? strerrordesc_np(err) : "error") + ", " + syscall;
  if (!path.empty()) msg += " '" + path + "'";
  Napi::Error e = Napi::Error::New(env, std::string(strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN") + ": " + msg);
  e.Set("code", Napi::String::New(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN"));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  return e;
}

int LockOp(bool exclusive) { return exclusive ? LOCK_EX : LOCK_SH; }

// tryFlock(fd, exclusive) -> true when taken, false when another holder has it.
Napi::Value TryFlock(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool exclusive = info[1].As<Napi::Boolean>().Value();
  int rc;
  do rc = ::flock(fd, LockOp(exclusive) | LOCK_NB); while (rc == -1 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(info.Env(), true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(info.Env(), false);
  throw SystemError(info.Env(), errno, "flock");
}

// mknod(path, mode, major, minor): mode includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO).
// A 0:0 character device is an overlay whiteout, which the kernel lets unprivileged users create.
Napi::Value Mknod(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  unsigned major = info[2].As<Napi::Number>().Uint32Value();
  unsigned minor = info[3].As<Napi::Number>().Uint32Value();
  if (::mknod(path.c_str(), mode, makedev(major, minor)) == -1) throw SystemError(info.Env(), errno, "mknod", path);
  return info.Env().Undefined();
}

// lsetxattr(path, name, value: Buffer)
Napi::Value Lsetxattr(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  std::string name = info[1].As<Napi::String>();
  auto value = info[2].As<Napi::Buffer<char>>();
  if (::lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) == -1)
    throw SystemError(info.Env(), errno, "lsetxattr", path);
  return info.Env().Undefined();
}

// lgetxattr(path, name) -> Buffer, or null when the attribute is absent.
Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  std::string name = info[1].As<Napi::String>();
  for (;;) {
    ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (n == -1) {
      if (errno == ENODATA) return info.Env().Null();
      throw SystemError(info.Env(), errno, "lgetxattr", path);
    }
    std::vector<char> buf(n > 0 ? n : 1);
    ssize_t m = ::lgetxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
    if (m == -1 && errno == ERANGE) continue;  // grew between the two calls
    if (m == -1) throw SystemError(info.Env(), errno, "lgetxattr", path);
    return Napi::Buffer<char>::Copy(info.Env(), buf.data(), m);
  }
}

// llistxattr(path) -> string[]
Napi::Value Llistxattr(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  for (;;) {
    ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
    if (n == -1) throw SystemError(info.Env(), errno, "llistxattr", path);
    std::vector<char> buf(n > 0 ? n : 1);
    ssize_t m = ::llistxattr(path.c_str(), buf.data(), buf.size());
    if (m == -1 && errno == ERANGE) continue;
    if (m == -1) throw SystemError(info.Env(), errno, "llistxattr", path);
    Napi::Array out = Napi::Array::New(info.Env());
    uint32_t i = 0;
    for (ssize_t off = 0; off < m;) {
      std::string name(buf.data() + off);
      off += name.size() + 1;
      out.Set(i++, Napi::String::New(info.Env(), name));
    }
    return out;
  }
}

// syncfs(fd): one flush of a whole filesystem, cheaper than fsync of every file of a layer.
Napi::Value Syncfs(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (::syncfs(fd) == -1) throw SystemError(info.Env(), errno, "syncfs");
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("tryFlock", Napi::Function::New(env, TryFlock));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr));
  exports.Set("syncfs", Napi::Function::New(env, Syncfs));
  return exports;
}

}  // namespace

NODE_API_MODULE(pkit, Init)
