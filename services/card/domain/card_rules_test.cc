#include "services/card/domain/card_rules.h"
#include "gtest/gtest.h"
