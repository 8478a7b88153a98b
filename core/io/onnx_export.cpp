#include "core/io/onnx_export.h"

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/layers/batchnorm.h"
#include "core/layers/conv2d.h"
#include "core/layers/dense.h"
#include "core/layers/maxpool2d.h"

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <cstring>
#include <map>

namespace sq {

namespace {

// IR version 7 (ONNX 1.7+) is the oldest that carries opset 13, so older runtimes read the file.
constexpr std::int64_t kIrVersion = 7;

void addInitializer(onnx::GraphProto& graph, const std::string& name, const std::vector<std::int64_t>& dims,
                    const float* values, std::size_t count, const std::string& doc = {})
{
    onnx::TensorProto* t = graph.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (std::int64_t d : dims)
        t->add_dims(d);
    // raw_data is little-endian float32, the layout of this (x86-64 / arm64) host.
    std::string raw(sizeof(float) * count, '\0');
    std::memcpy(raw.data(), values, raw.size());
    t->set_raw_data(std::move(raw));
    if (!doc.empty())
        t->set_doc_string(doc);
}

void addInts(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& values)
{
    onnx::AttributeProto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (std::int64_t v : values)
        a->add_ints(v);
}

void addInt(onnx::NodeProto& node, const std::string& name, std::int64_t value)
{
    onnx::AttributeProto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(value);
}

void addFloat(onnx::NodeProto& node, const std::string& name, float value)
{
    onnx::AttributeProto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
    a->set_f(value);
}

onnx::NodeProto& addNode(onnx::GraphProto& graph, const std::string& op, const std::string& name,
                         const std::vector<std::string>& inputs, const std::string& output)
{
    onnx::NodeProto* n = graph.add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs)
        n->add_input(i);
    n->add_output(output);
    return *n;
}

void setFloatType(onnx::ValueInfoProto& v, const std::string& name, const std::vector<int>& sample)
{
    v.set_name(name);
    onnx::TypeProto_Tensor* t = v.mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    onnx::TensorShapeProto* s = t->mutable_shape();
    s->add_dim()->set_dim_param("batch");
    for (int d : sample)
        s->add_dim()->set_dim_value(d);
}

void addMetadata(onnx::ModelProto& m, const std::string& key, const std::string& value)
{
    onnx::StringStringEntryProto* e = m.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
}

std::string floatList(const std::vector<float>& v)
{
    std::string out;
    char buf[32];
    for (float x : v) {
        std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(x));
        out += (out.empty() ? "" : ",") + std::string(buf);
    }
    return out;
}

std::vector<std::int64_t> dimsOf(const Tensor& t) { return {t.shape().begin(), t.shape().end()}; }

} // namespace

std::string onnxModelBytes(const StoredModel& stored)
{
    Model model = instantiateModel(stored);
    onnx::ModelProto proto;
    proto.set_ir_version(kIrVersion);
    proto.set_producer_name("SQ Explorer");
    proto.set_producer_version(SQ_VERSION);
    proto.set_model_version(1);
    proto.set_doc_string("Quantized with " + stored.method + "; weights dequantized to float32 (each quantized "
                         "layer's initializer holds only its level values). Input: (x - input_mean) / "
                         "input_stddev per channel, x in [0, 1].");
    onnx::OperatorSetIdProto* opset = proto.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOnnxOpset);
    addMetadata(proto, "architecture", stored.architecture);
    addMetadata(proto, "method", stored.method);
    addMetadata(proto, "input_mean", floatList(stored.inputMean));
    addMetadata(proto, "input_stddev", floatList(stored.inputStddev));

    onnx::GraphProto& graph = *proto.mutable_graph();
    graph.set_name("sq_model");
    setFloatType(*graph.add_input(), "input", stored.inputSample);

    std::string current = "input";
    std::vector<int> shape = stored.inputSample;
    std::map<std::string, int> ordinal;
    std::size_t weightIndex = 0;
    for (const auto& layerPtr : model.layers()) {
        Layer& layer = *layerPtr;
        const std::string kind = layer.kind();
        const std::string name = kind + std::to_string(++ordinal[kind]);
        const std::vector<int> out = layer.outputShape(shape);
        const std::string output = name + ".out";
        if (kind == "dense" || kind == "conv") {
            const StoredWeight& w = stored.weights.at(weightIndex++);
            const Tensor& weight = layer.quantizableWeight()->param.value;
            const Tensor& bias = layer.params().at(1)->value;
            const std::string doc = w.quantized() ? w.decision + ", " + std::to_string(w.bits)
                                                        + " bits per weight in the native file, levels "
                                                        + floatList(w.levels)
                                                  : w.decision;
            addInitializer(graph, name + ".weight", dimsOf(weight), weight.data(), weight.size(), doc);
            addInitializer(graph, name + ".bias", dimsOf(bias), bias.data(), bias.size());
            addMetadata(proto, name + ".decision", w.decision);
            addMetadata(proto, name + ".bits", std::to_string(w.bits));
            if (kind == "dense") {
                std::string x = current;
                if (shape.size() > 1) {
                    x = name + ".flat";
                    addInt(addNode(graph, "Flatten", name + ".flatten", {current}, x), "axis", 1);
                }
                onnx::NodeProto& n = addNode(graph, "Gemm", name, {x, name + ".weight", name + ".bias"}, output);
                addInt(n, "transB", 1);
            } else {
                const auto& c = dynamic_cast<const Conv2D&>(layer);
                onnx::NodeProto& n = addNode(graph, "Conv", name, {current, name + ".weight", name + ".bias"}, output);
                addInts(n, "kernel_shape", {c.kernel(), c.kernel()});
                addInts(n, "strides", {c.stride(), c.stride()});
                addInts(n, "pads", {c.padding(), c.padding(), c.padding(), c.padding()});
            }
        } else if (kind == "maxpool") {
            const auto& p = dynamic_cast<const MaxPool2D&>(layer);
            onnx::NodeProto& n = addNode(graph, "MaxPool", name, {current}, output);
            addInts(n, "kernel_shape", {p.size(), p.size()});
            addInts(n, "strides", {p.stride(), p.stride()});
        } else if (kind == "bn") {
            auto& bn = dynamic_cast<BatchNorm&>(layer);
            const auto params = bn.params();
            const std::vector<std::int64_t> dims{bn.channels()};
            addInitializer(graph, name + ".gamma", dims, params[0]->value.data(), params[0]->value.size());
            addInitializer(graph, name + ".beta", dims, params[1]->value.data(), params[1]->value.size());
            addInitializer(graph, name + ".mean", dims, bn.runningMean().data(), bn.runningMean().size());
            addInitializer(graph, name + ".var", dims, bn.runningVar().data(), bn.runningVar().size());
            onnx::NodeProto& n = addNode(graph, "BatchNormalization", name,
                                         {current, name + ".gamma", name + ".beta", name + ".mean", name + ".var"},
                                         output);
            addFloat(n, "epsilon", bn.eps());
        } else if (kind == "relu") {
            addNode(graph, "Relu", name, {current}, output);
        } else if (kind == "flatten") {
            addInt(addNode(graph, "Flatten", name, {current}, output), "axis", 1);
        } else {
            throw Error("ONNX export: no ONNX operator for layer '" + layer.describe() + "'");
        }
        current = output;
        shape = out;
    }
    // The graph's last node writes "logits".
    graph.mutable_node(graph.node_size() - 1)->set_output(0, "logits");
    setFloatType(*graph.add_output(), "logits", {stored.classes});

    std::string bytes;
    if (!proto.SerializeToString(&bytes))
        throw Error("ONNX export: protobuf could not serialize the model");
    return bytes;
}

void writeOnnxModel(const std::string& path, const StoredModel& model)
{
    writeFileAtomically(path, onnxModelBytes(model));
}

} // namespace sq
