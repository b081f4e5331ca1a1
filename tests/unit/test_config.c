/* config.json parsing: real published configs, and bad ones refused with the field named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "engine/model/config.h"

/* meta-llama/Llama-3.1-8B config.json (published on the Hugging Face hub). */
static const char *llama31_8b =
    "{\"architectures\":[\"LlamaForCausalLM\"],\"attention_bias\":false,\"attention_dropout\":0.0,"
    "\"bos_token_id\":128000,\"eos_token_id\":128001,\"hidden_act\":\"silu\",\"hidden_size\":4096,"
    "\"initializer_range\":0.02,\"intermediate_size\":14336,\"max_position_embeddings\":131072,"
    "\"mlp_bias\":false,\"model_type\":\"llama\",\"num_attention_heads\":32,\"num_hidden_layers\":32,"
    "\"num_key_value_heads\":8,\"pretraining_tp\":1,\"rms_norm_eps\":1e-05,"
    "\"rope_scaling\":{\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
    "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"},\"rope_theta\":500000.0,"
    "\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\",\"transformers_version\":\"4.43.0.dev0\","
    "\"use_cache\":true,\"vocab_size\":128256}";

/* Qwen/Qwen2.5-0.5B config.json. */
static const char *qwen25_05b =
    "{\"architectures\":[\"Qwen2ForCausalLM\"],\"attention_dropout\":0.0,\"bos_token_id\":151643,"
    "\"eos_token_id\":151643,\"hidden_act\":\"silu\",\"hidden_size\":896,\"initializer_range\":0.02,"
    "\"intermediate_size\":4864,\"max_position_embeddings\":32768,\"max_window_layers\":24,"
    "\"model_type\":\"qwen2\",\"num_attention_heads\":14,\"num_hidden_layers\":24,\"num_key_value_heads\":2,"
    "\"rms_norm_eps\":1e-06,\"rope_theta\":1000000.0,\"sliding_window\":32768,\"tie_word_embeddings\":true,"
    "\"torch_dtype\":\"bfloat16\",\"transformers_version\":\"4.40.1\",\"use_cache\":true,"
    "\"use_sliding_window\":false,\"vocab_size\":151936}";

static void test_llama31(void **state)
{
    (void)state;
    tb_llama_config c;
    tb_error err;
    assert_int_equal(tb_llama_config_parse(&c, llama31_8b, "llama/config.json", &err), TB_OK);
    assert_int_equal(c.dim, 4096);
    assert_int_equal(c.n_kv_heads, 8);
    assert_int_equal(c.head_dim, 128);
    assert_int_equal(tb_llama_kv_dim(&c), 1024);
    assert_int_equal(c.rope_type, TB_ROPE_LLAMA3);
    assert_int_equal(c.rope_orig_max_pos, 8192);
    assert_false(c.tie_embeddings);
    assert_false(c.qkv_bias);
    assert_int_equal(c.torch_dtype, TB_DTYPE_BF16);
    assert_int_equal(c.eos_ids[0], 128001);
}

static void test_qwen(void **state)
{
    (void)state;
    tb_llama_config c;
    tb_error err;
    assert_int_equal(tb_llama_config_parse(&c, qwen25_05b, NULL, &err), TB_OK);
    assert_true(c.qkv_bias);
    assert_true(c.tie_embeddings);
    assert_int_equal(c.head_dim, 64);
    assert_int_equal(c.sliding_window, 0); /* declared but unused */
}

static void expect_fail(const char *json, tb_status want, const char *field)
{
    tb_llama_config c;
    tb_error err;
    tb_error_clear(&err);
    assert_int_equal(tb_llama_config_parse(&c, json, "bad/config.json", &err), want);
    assert_string_equal(err.field, field);
    assert_string_equal(err.file, "bad/config.json");
}

static void test_bad_configs(void **state)
{
    (void)state;
    expect_fail("{\"architectures\":[\"LlamaForCausalLM\"],\"intermediate_size\":8,\"num_hidden_layers\":1,"
                "\"num_attention_heads\":2,\"vocab_size\":10}", TB_ERR_INVALID, "hidden_size");
    expect_fail("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":10,\"intermediate_size\":8,"
                "\"num_hidden_layers\":1,\"num_attention_heads\":0,\"vocab_size\":10}", TB_ERR_INVALID,
                "num_attention_heads");
    expect_fail("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":10,\"intermediate_size\":8,"
                "\"num_hidden_layers\":1,\"num_attention_heads\":3,\"vocab_size\":10}", TB_ERR_INVALID,
                "num_attention_heads");
    expect_fail("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":-8,"
                "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"vocab_size\":10}", TB_ERR_INVALID,
                "intermediate_size");
    expect_fail("{\"architectures\":[\"MixtralForCausalLM\"],\"hidden_size\":16}", TB_ERR_UNSUPPORTED,
                "architectures");
    expect_fail("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":8,"
                "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"vocab_size\":10,\"num_local_experts\":8}",
                TB_ERR_UNSUPPORTED, "num_local_experts");
    expect_fail("{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":8,"
                "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"vocab_size\":10,\"use_sliding_window\":true}",
                TB_ERR_UNSUPPORTED, "use_sliding_window");
    expect_fail("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":8,"
                "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"vocab_size\":10,"
                "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}}", TB_ERR_UNSUPPORTED, "rope_scaling");
    expect_fail("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":8,"
                "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"num_key_value_heads\":3,\"vocab_size\":10}",
                TB_ERR_INVALID, "num_key_value_heads");
    expect_fail("[1,2]", TB_ERR_FORMAT, "");
    expect_fail("{\"hidden_size\": ", TB_ERR_FORMAT, "");
}

static void test_rope_parameters_and_head_dim(void **state)
{
    (void)state;
    tb_llama_config c;
    tb_error err;
    const char *j = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":128,"
                    "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":24,"
                    "\"vocab_size\":100,\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":12345.0}}";
    assert_int_equal(tb_llama_config_parse(&c, j, NULL, &err), TB_OK);
    assert_int_equal(c.head_dim, 24); /* explicit head_dim wins over D/H */
    assert_true(c.rope_theta == 12345.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama31),
        cmocka_unit_test(test_qwen),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_rope_parameters_and_head_dim),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
