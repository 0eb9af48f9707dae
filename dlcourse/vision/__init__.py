"""Part 3 of the notes: computer vision (convolutions, pooling, normalization, gradient ascent, detection …)."""
from .batchnorm import BatchNorm2d, batch_norm2d
from .residual import DenseResidualBlock, ResidualBlock, deep_mlp
from .transposed import conv_transpose2d, conv_transpose_output_size, dilated_receptive_field
from .conv import conv2d, conv_flops, conv_output_size, conv_params, receptive_field, same_padding
from .conv_matrix import conv_matrix
from .pooling import avg_pool2d, max_pool2d
from .separable import SeparableConv2d, separable_flops, separable_params
from .ascent import (deep_dream, gaussian_blur, invert_representation, jitter, l2_penalty, layer_fn,
                     maximize_activation, total_variation)
from .style import content_loss, gram_matrix, style_loss, style_targets, style_transfer
from .transform_net import TransformNet, random_crops, train_transform_net
from .small_cnn import DigitCNN, SmallCNN, digit_classifier, pretrained_digit_cnn
from .attacks import evolutionary_attack, fgsm, pgd, pgd_project
from .autoencoder import Autoencoder, psnr, reconstruction_error, trained_autoencoder
from .roc import roc_auc, roc_curve
from .ood import OOD_KINDS, ood_images
from .boxes import box_area, box_iou, cxcywh_to_xyxy, xywh_to_xyxy, xyxy_to_cxcywh
from .nms import batched_nms, nms
from .anchors import kmeans_anchors, wh_iou
from .yolo import TinyYOLO, to_grid, yolo_decode, yolo_detect, yolo_loss, yolo_loss_parts, yolo_targets
from .map import average_precision, match_detections, mean_average_precision
from .segmentation import FCN, UNet, confusion_matrix, convolutionalize_head, mean_iou, per_class_iou, unet_output_size
from .detector import level_targets, shapes_yolo, train_yolo
