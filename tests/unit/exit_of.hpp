// The exit status a call throws with (Exit::ok if it returns): what a refusal test asserts.
#pragma once
#include "error.hpp"

namespace secagg::test {

template <class F>
Exit exit_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return Exit::ok;
}

}  // namespace secagg::test
